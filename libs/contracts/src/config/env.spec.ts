import { DatabaseEnv, validateEnv } from './env';

describe('validateEnv', () => {
  it('fills defaults and converts numbers', () => {
    const env = validateEnv(DatabaseEnv)({ DB_PORT: '3307', UNRELATED: 'x' });
    expect(env.DB_PORT).toBe(3307);
    expect(env.DB_HOST).toBe('127.0.0.1');
    expect(env.RABBITMQ_URL).toBe('amqp://guest:guest@127.0.0.1:5672');
  });

  it('names every bad variable and what it expects', () => {
    expect(() => validateEnv(DatabaseEnv)({ DB_PORT: 'abc', RABBITMQ_URL: 'http://x', RPC_TIMEOUT_MS: '5' })).toThrow(
      /DB_PORT="abc": .*integer[\s\S]*RABBITMQ_URL="http:\/\/x": RABBITMQ_URL must be an amqp[\s\S]*RPC_TIMEOUT_MS="5": .*less than 50/,
    );
  });
});
