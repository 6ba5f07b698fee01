import { DEV_ORDER_ID_SECRET, validateEnv } from '@app/platform';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'dotenv';
import { DEV_ADMIN_API_KEY, GatewayEnv } from './gateway.env';

describe('GatewayEnv', () => {
  const validate = validateEnv(GatewayEnv);

  it('uses the .env.example admin key in development, as npm start does', () => {
    const example = parse(readFileSync(join(__dirname, '../../../../.env.example')));
    expect(example.ADMIN_API_KEY).toBe(DEV_ADMIN_API_KEY);
    expect(validate({}).ADMIN_API_KEY).toBe(DEV_ADMIN_API_KEY);
    expect(validate(example).ADMIN_API_KEY).toBe(DEV_ADMIN_API_KEY);
  });

  it('refuses to start in production with the .env.example key or none, naming ADMIN_API_KEY', () => {
    for (const key of [DEV_ADMIN_API_KEY, '']) {
      expect(() => validate({ NODE_ENV: 'production', ADMIN_API_KEY: key })).toThrow(/ADMIN_API_KEY.*NODE_ENV=production/);
    }
    const own = {
      NODE_ENV: 'production',
      ADMIN_API_KEY: 'a-real-secret-of-32-characters!!',
      ORDER_ID_SECRET: 'another-secret-of-our-own-0123',
    };
    expect(validate(own).ADMIN_API_KEY).toBe('a-real-secret-of-32-characters!!');
  });

  it('refuses to start in production with the .env.example order id secret, naming ORDER_ID_SECRET', () => {
    const example = parse(readFileSync(join(__dirname, '../../../../.env.example')));
    expect(example.ORDER_ID_SECRET).toBe(DEV_ORDER_ID_SECRET);
    const env = { NODE_ENV: 'production', ADMIN_API_KEY: 'a-real-secret-of-32-characters!!', ORDER_ID_SECRET: DEV_ORDER_ID_SECRET };
    expect(() => validate(env)).toThrow(/ORDER_ID_SECRET.*NODE_ENV=production/);
    expect(() => validate({ ORDER_ID_SECRET: 'short' })).toThrow(/ORDER_ID_SECRET/);
  });

  it('refuses short or blank admin keys and out-of-range limits', () => {
    expect(() => validate({ ADMIN_API_KEY: 'short' })).toThrow(/ADMIN_API_KEY/);
    expect(() => validate({ ADMIN_API_KEY: 'sixteen chars with spaces' })).toThrow(/ADMIN_API_KEY/);
    expect(() => validate({ THROTTLE_ORDERS_LIMIT: '0' })).toThrow(/THROTTLE_ORDERS_LIMIT/);
    expect(() => validate({ BODY_LIMIT_BYTES: '10' })).toThrow(/BODY_LIMIT_BYTES/);
  });
});
