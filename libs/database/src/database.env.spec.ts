import { IsSecret, RabbitEnv, validateEnv } from '@app/platform';
import { DatabaseEnv } from './database.env';

class WithSecret extends RabbitEnv {
  @IsSecret('placeholder-secret-value')
  SOME_SECRET: string = 'placeholder-secret-value';
}

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

  it('never prints a secret or a URL password in its error', () => {
    const run = () => validateEnv(WithSecret)({ SOME_SECRET: 'short secret', RABBITMQ_URL: 'http://app:hunter2@rabbitmq' });
    expect(run).toThrow(/SOME_SECRET=<12 characters, not shown>/);
    expect(run).toThrow(/RABBITMQ_URL="http:\/\/app:\*\*\*@rabbitmq"/);
    expect(run).not.toThrow(/short secret|hunter2/);
  });
});
