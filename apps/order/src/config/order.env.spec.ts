import { validateEnv } from '@app/platform';
import { OrderEnv } from './order.env';

describe('OrderEnv', () => {
  it('refuses a lease shorter than the longest step of a live driver', () => {
    expect(() => validateEnv(OrderEnv)({ LEASE_MS: '5000', CONTENTION_WAIT_MS: '3000', RPC_TIMEOUT_MS: '1000' })).toThrow(
      /LEASE_MS="5000": LEASE_MS must exceed 6000 ms/,
    );
    expect(validateEnv(OrderEnv)({}).LEASE_MS).toBe(15_000);
  });

  it('refuses a fault point in production', () => {
    expect(() => validateEnv(OrderEnv)({ NODE_ENV: 'production', FAULT_POINT: 'after-reserve' })).toThrow(/FAULT_POINT must be empty/);
    expect(validateEnv(OrderEnv)({ NODE_ENV: 'test', FAULT_POINT: 'after-reserve' }).FAULT_POINT).toBe('after-reserve');
  });
});
