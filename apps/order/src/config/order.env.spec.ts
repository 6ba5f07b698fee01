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

  it('refuses a retention that ends before every order has left phase 1, and less than a day in production', () => {
    expect(() => validateEnv(OrderEnv)({ RETENTION_MS: '70000', ORDER_LOST_AFTER_MS: '60000', LEASE_MS: '15000' })).toThrow(
      /RETENTION_MS="70000": RETENTION_MS must be at least 75000 ms: ORDER_LOST_AFTER_MS \+ LEASE_MS/,
    );
    expect(validateEnv(OrderEnv)({ RETENTION_MS: '75000' }).RETENTION_MS).toBe(75_000);
    expect(() =>
      validateEnv(OrderEnv)({ NODE_ENV: 'production', RETENTION_MS: '3600000', ORDER_ID_SECRET: 'a-production-secret' }),
    ).toThrow(/RETENTION_MS must be at least 86400000 ms: a day in production/);
    expect(validateEnv(OrderEnv)({}).RETENTION_MS).toBe(7 * 86_400_000);
  });
});
