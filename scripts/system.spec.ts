import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServiceName, System } from './system';

/**
 * A start that fails must say why without a log file to read (CI keeps only the test output): the
 * System names the app that is down, how it exited, and its last lines. The apps here are stand-ins
 * under a root of their own: a gateway whose /health says the order service is down, and an order
 * service given per test.
 */
jest.setTimeout(20_000);

let port: number;
let root: string;
let system: System | undefined;

function app(service: ServiceName, source: string): void {
  const dir = join(root, 'dist', 'apps', service, 'src');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'main.js'), source);
}

beforeEach(async () => {
  // A port free now, rather than a fixed one another suite or a bench may hold.
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  port = (probe.address() as AddressInfo).port;
  probe.close();
  root = mkdtempSync(join(tmpdir(), 'system-spec-'));
  writeFileSync(join(root, 'package.json'), '{}');
  app(
    'gateway',
    `require('node:http').createServer((req, res) => {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: 'SERVICE_UNAVAILABLE', message: 'Down: order, order_database' }));
    }).listen(${port}, '127.0.0.1');
    process.on('disconnect', () => process.exit(0));`,
  );
});

afterEach(async () => {
  await system?.stopAll('SIGKILL');
  system = undefined;
  rmSync(root, { recursive: true, force: true });
});

function startSystem(): System {
  system = new System({ root, env: { PORT: String(port) }, output: () => undefined, services: ['gateway', 'order'] });
  return system;
}

it('fails at once when an app exits while starting, with how it exited and its last lines', async () => {
  app('order', `console.log('migrating'); console.error('Cannot listen on 4906: EADDRINUSE'); process.exit(1);`);
  const started = Date.now();
  const error = await startSystem()
    .start()
    .then(
      () => undefined,
      (err: Error) => err,
    );
  expect(Date.now() - started).toBeLessThan(10_000);
  expect(error?.message).toMatch(
    /^The system is not running: order \(exit code 1\); its last 2 line\(s\):\n {2}migrating\n {2}Cannot listen on 4906: EADDRINUSE$/,
  );
});

it('names what the gateway reports down when health times out, with its last lines', async () => {
  app(
    'order',
    `console.log('consuming queue order'); setInterval(() => undefined, 1000); process.on('disconnect', () => process.exit(0));`,
  );
  const s = startSystem();
  for (const service of ['gateway', 'order'] as const) s.spawn(service);
  const error = await s.waitHealthy(1500).then(
    () => undefined,
    (err: Error) => err,
  );
  expect(error?.message).toContain('The system did not become healthy within 1500 ms: 503');
  expect(error?.message).toContain('order (running); its last 1 line(s):\n  consuming queue order');
  expect(error?.message).not.toContain('gateway (running)');
});

it('names a gateway that exits while starting once', async () => {
  app('gateway', `console.error('PORT is not a number'); process.exit(1);`);
  app('order', `setInterval(() => undefined, 1000); process.on('disconnect', () => process.exit(0));`);
  const error = await startSystem()
    .start()
    .then(
      () => undefined,
      (err: Error) => err,
    );
  expect(error?.message).toBe('The system is not running: gateway (exit code 1); its last 1 line(s):\n  PORT is not a number');
});
