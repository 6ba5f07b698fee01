import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'dotenv';

/** No secret is committed: configuration examples hold placeholders, real values come from the environment. */
describe('secrets in the repository', () => {
  const root = join(__dirname, '..');
  const tracked = execFileSync('git', ['ls-files'], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean);

  it('tracks no .env file, only .env.example', () => {
    expect(tracked.filter((file) => /(^|\/)\.env($|\.)/.test(file))).toEqual(['.env.example']);
  });

  it('has placeholders only in .env.example', () => {
    const example = parse(readFileSync(join(root, '.env.example')));
    expect(example.DB_PASSWORD).toBe('');
    expect(example.ADMIN_API_KEY).toMatch(/change-me/);
    expect(example.RABBITMQ_URL).toBe('amqp://guest:guest@127.0.0.1:5672');
  });

  it('holds no private keys or cloud credentials in any tracked file', () => {
    const suspicious = /-----BEGIN [A-Z ]*PRIVATE KEY-----|AKIA[0-9A-Z]{16}|xox[bap]-[0-9A-Za-z-]{10,}|gh[pousr]_[0-9A-Za-z]{36}/;
    const offenders = tracked.filter(
      (file) =>
        !file.endsWith('.spec.ts') && !file.startsWith('bench/results/') && suspicious.test(readFileSync(join(root, file), 'latin1')),
    );
    expect(offenders).toEqual([]);
  });
});
