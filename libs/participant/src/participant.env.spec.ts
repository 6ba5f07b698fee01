import { validateEnv } from '@app/platform';
import { ParticipantEnv } from './participant.env';

describe('ParticipantEnv', () => {
  it('refuses a retention that ends before every reservation of an order has expired and been swept', () => {
    expect(() => validateEnv(ParticipantEnv)({ RETENTION_MS: '4000', RESERVATION_TTL_MS: '3000', SWEEP_INTERVAL_MS: '1500' })).toThrow(
      /RETENTION_MS="4000": RETENTION_MS must be at least 4500 ms: RESERVATION_TTL_MS \+ SWEEP_INTERVAL_MS/,
    );
    expect(validateEnv(ParticipantEnv)({ RETENTION_MS: '4500', RESERVATION_TTL_MS: '3000', SWEEP_INTERVAL_MS: '1500' }).RETENTION_MS).toBe(
      4500,
    );
  });

  it('refuses less than a day in production, where the order service settings cannot be checked here', () => {
    expect(() => validateEnv(ParticipantEnv)({ NODE_ENV: 'production', RETENTION_MS: String(86_400_000 - 1) })).toThrow(
      /RETENTION_MS must be at least 86400000 ms: a day in production/,
    );
    expect(validateEnv(ParticipantEnv)({ NODE_ENV: 'production' }).RETENTION_MS).toBe(7 * 86_400_000);
  });
});
