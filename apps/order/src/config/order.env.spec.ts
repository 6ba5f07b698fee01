import { validateEnv } from '@app/contracts';
import { OrderEnv } from './order.env';

describe('OrderEnv', () => {
  it('refuses a fault point in production', () => {
    expect(() => validateEnv(OrderEnv)({ NODE_ENV: 'production', FAULT_POINT: 'after-reserve' })).toThrow(/FAULT_POINT must be empty/);
    expect(validateEnv(OrderEnv)({ NODE_ENV: 'test', FAULT_POINT: 'after-reserve' }).FAULT_POINT).toBe('after-reserve');
  });
});
