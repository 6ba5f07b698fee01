import { DEFAULT_STORE_ID, Queue } from '@app/contracts';
import { RowDataPacket } from 'mysql2/promise';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { metricsPortVariable } from '../scripts/system';
import { RawBroker } from './support/raw-broker';
import { TestSystem } from './support/harness';
import { singleFoodCart } from '../scripts/answers';
import { runLoad } from './support/load';
import { reservePacket } from './support/participants';
import { v7 } from 'uuid';

/**
 * Running in production: config refused at boot, health, one order's log lines across the four
 * apps, Prometheus metrics, and a graceful stop on SIGTERM, all on the real system.
 */

jest.setTimeout(120_000);

// At debug, to follow every step of an order; what the hot path logs at info is checked by level.
// Two order instances run in the shutdown test: the gateway keeps 8 order batches in flight (at
// least one per instance, as operations.md says), which the broker hands to the two in turn, so the
// instance stopped has some to finish.
const t = new TestSystem('ops', 3903, { LOG_LEVEL: 'debug', ORDER_BATCHES_IN_FLIGHT: '8' });

beforeAll(() => t.start());
afterAll(() => t.stop());

type LogLine = { app: string; msg: string; orderId?: string; correlationId?: string; [key: string]: unknown };

/** Every JSON line the system logged so far, with the instance that logged it. */
function logLines(): (LogLine & { instance: string })[] {
  return readFileSync(t.logFile, 'utf8')
    .split('\n')
    .flatMap((line) => {
      const match = /^\[(\S+)\] (\{.*\})$/.exec(line);
      return match ? [{ instance: match[1], ...(JSON.parse(match[2]) as LogLine) }] : [];
    });
}

const metricsUrl = (service: 'order' | 'store' | 'delivery') => `http://127.0.0.1:${t.env[metricsPortVariable(service)]}`;

/** The sum of a metric's samples whose labels include `labels`, from Prometheus text. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let total: number | undefined;
  for (const line of text.split('\n')) {
    const match = /^(\w+)\{(.*)\} (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const own = Object.fromEntries([...match[2].matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => own[key] === value)) total = (total ?? 0) + Number(match[3]);
  }
  return total;
}

async function metrics(url: string): Promise<string> {
  const res = await fetch(`${url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  return res.text();
}

describe('configuration', () => {
  /** Runs one app from dist with `env` and returns how it exited and what it printed. */
  async function runApp(app: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
    const child = spawn(process.execPath, [join(__dirname, '..', 'dist', 'apps', app, 'src', 'main.js')], {
      env: { ...process.env, ...t.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const [code] = await once(child, 'exit');
    clearTimeout(killer);
    return { code, output };
  }

  it.each([
    ['gateway', { ORDER_WAIT_MS: '5' }, /ORDER_WAIT_MS="5": ORDER_WAIT_MS must not be less than 1000/],
    ['order', { ORDER_METRICS_PORT: '70000' }, /ORDER_METRICS_PORT="70000": ORDER_METRICS_PORT must not be greater than 65535/],
    ['store', { RESERVATION_TTL_MS: 'soon' }, /RESERVATION_TTL_MS="soon": .*RESERVATION_TTL_MS must be an integer number/],
    ['delivery', { LOG_LEVEL: 'loud' }, /LOG_LEVEL="loud": LOG_LEVEL must be one of the following values: fatal, error/],
    [
      'store',
      {
        PARTITION: 'a',
        PARTITION_MAP: JSON.stringify({
          partitions: ['a', 'b'].map((name, i) => ({
            name,
            queuePrefix: `${name}.`,
            stores: { from: 1 + i, to: 10 },
            databases: { order: `o_${name}`, store: `s_${name}`, delivery: `d_${name}` },
          })),
        }),
      },
      /PARTITION_MAP: PARTITION_MAP is invalid:\n\s+the store ranges of a and b overlap/,
    ],
    ['gateway', { PARTITION: 'north' }, /PARTITION="north": a gateway routes to every partition; leave it unset/],
  ])('%s refuses to start with a bad variable, naming it and what it expects', async (app, bad, expected) => {
    const { code, output } = await runApp(app, bad);

    expect(code).toBe(1);
    // One JSON line, like every other line of the app.
    const fatal = output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: string; app: string; msg: string })
      .find((line) => line.level === 'fatal');
    expect(fatal).toMatchObject({ app, msg: expect.stringMatching(expected) });
  });
});

describe('health', () => {
  it('answers 200 with every service and database up, and 503 naming the service that is down', async () => {
    const up = await t.get('/health');
    expect(up.status).toBe(200);
    expect(up.body).toMatchObject({ status: 'ok', error: {} });
    expect(Object.keys(up.body.details).sort()).toEqual([
      'delivery',
      'delivery_database',
      'order',
      'order_database',
      'store',
      'store_database',
    ]);
    const own = await fetch(`${metricsUrl('store')}/health`);
    expect(own.status).toBe(200);
    expect(await own.json()).toEqual({ service: 'store', status: 'ok', database: 'up' });

    await t.system.stop('store');
    try {
      const down = await t.get('/health');

      expect(down.status).toBe(503);
      expect(down.body).toMatchObject({ code: 'SERVICE_UNAVAILABLE', message: 'Down: store, store_database', status: 'error' });
      expect(Object.keys(down.body.error).sort()).toEqual(['store', 'store_database']);
      expect(down.body.error.store.message).toMatch(/store\.health: no reply within/);
      expect(down.body.info).toMatchObject({ order: { status: 'up' }, delivery_database: { status: 'up' } });

      // Probes nobody waits for any more do not queue up for the store's return.
      for (let i = 0; i < 3; i++) expect((await t.get('/health')).status).toBe(503);
      const broker = await RawBroker.open(t);
      try {
        for (const queue of [Queue.STORE, Queue.STORE_ADMIN])
          await t.until(async () => (await broker.depth(queue)).ready === 0, 5_000, `expired health probes to leave the ${queue} queue`);
      } finally {
        await broker.close();
      }
    } finally {
      t.system.spawn('store');
      await t.system.waitHealthy();
    }
  });
});

describe('logs', () => {
  it('follows one order across the four apps by its id, one line per step, under the caller correlation id; at info, one line per state change', async () => {
    const food = await t.post('/foods', { name: 'Traced Dosa', packets: 2 });
    await t.post('/agents', { count: 2 });
    const res = await fetch(`${t.url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-correlation-id': 'ops-trace-1' },
      body: JSON.stringify({ foodId: food.body.id }),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-correlation-id')).toBe('ops-trace-1');
    const { orderId, packetId, agentId } = (await res.json()) as { orderId: string; packetId: number; agentId: number };

    const lines = await t.until(
      async () => {
        const found = logLines().filter((line) => JSON.stringify(line).includes(orderId));
        return new Set(found.map((line) => line.app)).size === 4 && found.some((l) => l.msg === 'request completed') ? found : undefined;
      },
      5000,
      'lines of the order from all four apps',
    );

    for (const line of lines) expect(line).toMatchObject({ orderId, correlationId: 'ops-trace-1' });
    const said = (app: string) => lines.filter((line) => line.app === app).map((line) => line.msg);
    expect(said('order')).toEqual(
      expect.arrayContaining([
        `reserved packets ${packetId} of dark store ${DEFAULT_STORE_ID}`,
        `reserved agent ${agentId}`,
        `decided COMMITTING: packets ${packetId}, agent ${agentId}`,
        `assigned packets ${packetId}`,
        `assigned agent ${agentId}`,
        'PLACED',
        'order.place-batch ok',
      ]),
    );
    expect(said('store')).toEqual(['store.cart.reserve-batch ok', 'store.packet.assign-batch ok']);
    expect(said('delivery')).toEqual(['delivery.agent.reserve-batch ok', 'delivery.agent.assign-batch ok']);
    // At info and above, the hot path says only how the order moved, and the gateway its answer.
    const info = lines.filter((line) => line.level !== 'debug' && line.level !== 'trace');
    expect(info.filter((line) => line.app === 'order').map((line) => line.msg)).toEqual([
      `decided COMMITTING: packets ${packetId}, agent ${agentId}`,
      'PLACED',
    ]);
    expect(info.filter((line) => line.app === 'store' || line.app === 'delivery')).toEqual([]);
    expect(info.filter((line) => line.app === 'gateway')).toHaveLength(1);
    expect(lines.find((line) => line.app === 'gateway')).toMatchObject({
      req: { method: 'POST', url: '/orders' },
      res: { statusCode: 201 },
    });
  });
});

describe('metrics', () => {
  it('serves Prometheus metrics on every app: outcomes, phases, messages, expiries, process', async () => {
    const food = await t.post('/foods', { name: 'Metered', packets: 1 });
    expect((await t.post('/orders', { foodId: food.body.id })).status).toBe(201);
    expect((await t.post('/orders', { foodId: food.body.id })).status).toBe(409);
    // A reservation nobody assigns expires (TTL 3 s) and the sweep gives it back.
    const stray = await t.post('/foods', { name: 'Abandoned', packets: 1 });
    await reservePacket(t.client(Queue.STORE), v7(), stray.body.id);
    const swept = async () =>
      sample(await metrics(metricsUrl('store')), 'reservations_expired_total', { resource: 'packet', fate: 'swept' });
    await t.until(async () => ((await swept()) ?? 0) >= 1, 8000, 'the sweep to count the expired reservation');

    const gateway = await metrics(t.url);
    expect(
      sample(gateway, 'http_requests_total', { app: 'gateway', route: '/orders', method: 'POST', status: '201' }),
    ).toBeGreaterThanOrEqual(1);
    expect(sample(gateway, 'http_requests_total', { route: '/orders', status: '409' })).toBeGreaterThanOrEqual(1);
    expect(sample(gateway, 'process_cpu_seconds_total', { app: 'gateway' })).toBeGreaterThan(0);

    const order = await metrics(metricsUrl('order'));
    expect(sample(order, 'orders_total', { app: 'order', outcome: 'PLACED' })).toBeGreaterThanOrEqual(1);
    expect(sample(order, 'orders_total', { outcome: 'NOT_PLACED', reason: 'OUT_OF_STOCK' })).toBeGreaterThanOrEqual(1);
    expect(sample(order, 'order_phase_duration_seconds_count', { phase: 'reserve', outcome: 'decided' })).toBeGreaterThanOrEqual(1);
    expect(sample(order, 'order_phase_duration_seconds_count', { phase: 'total', outcome: 'PLACED' })).toBeGreaterThanOrEqual(1);
    expect(sample(order, 'rpc_messages_total', { pattern: 'order.place-batch', outcome: 'ok' })).toBeGreaterThanOrEqual(2);
    expect(order).toMatch(/^# TYPE order_call_retries_total counter$/m);
    expect(order).toMatch(/^# TYPE orders_recovered_total counter$/m);

    const store = await metrics(metricsUrl('store'));
    expect(sample(store, 'rpc_messages_total', { app: 'store', pattern: 'store.cart.reserve', outcome: 'ok' })).toBeGreaterThanOrEqual(1);
    expect(sample(store, 'rpc_message_duration_seconds_count', { pattern: 'store.packet.assign-batch' })).toBeGreaterThanOrEqual(1);
    // Group commit: orders per message the coordinator sent, and per transaction the store committed.
    expect(sample(order, 'batch_size_count', { hop: 'store.cart.reserve-batch', unit: 'message' })).toBeGreaterThanOrEqual(1);
    expect(sample(store, 'batch_size_count', { hop: 'store.cart.reserve-batch', unit: 'transaction' })).toBeGreaterThanOrEqual(1);
    expect(sample(gateway, 'batch_size_count', { hop: 'order.place-batch', unit: 'message' })).toBeGreaterThanOrEqual(2);
    const delivery = await metrics(metricsUrl('delivery'));
    expect(
      sample(delivery, 'rpc_messages_total', { app: 'delivery', pattern: 'delivery.agent.assign-batch', outcome: 'ok' }),
    ).toBeGreaterThanOrEqual(1);
    expect(sample(delivery, 'nodejs_eventloop_lag_seconds', { app: 'delivery' })).toBeDefined();
    // Every app runs on the Node that runs the tests, which is how scripts/node24.sh tests the apps on Node 24.
    for (const text of [gateway, order, store, delivery]) expect(sample(text, 'nodejs_version_info', { version: process.version })).toBe(1);
  });
});

describe('shutdown', () => {
  it('stops the gateway on SIGTERM within seconds even while a live page is open, ending its stream', async () => {
    const second = t.system.spawn('gateway', 2);
    const url = `http://127.0.0.1:${Number(t.env.PORT) + 1}`;
    await t.until(async () => (await fetch(`${url}/health`).catch(() => undefined))?.ok, 30_000, second);
    const stream = await fetch(`${url}/live/events`);
    const reader = stream.body!.getReader();
    let received = '';
    while (!received.includes('data: ')) received += new TextDecoder().decode((await reader.read()).value);

    const started = Date.now();
    const exit = await t.system.stop(second, 'SIGTERM');
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(5000);
    // The stream ended cleanly rather than being cut when the process died.
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read());
  });

  it('stops the order service on SIGTERM within seconds, finishing the orders it has in flight', async () => {
    const ORDERS = 150;
    const food = await t.post('/foods', { name: 'Rush hour', packets: ORDERS });
    await t.post('/agents', { count: ORDERS });
    t.system.spawn('order', 2);
    await t.until(async () => logLines().some((l) => l.instance === 'order#2' && /is consuming queue/.test(l.msg)), 30_000, 'order#2');
    let stopped: { code: number | null; signal: string | null; ms: number } | undefined;

    const { answers } = await runLoad(t, {
      cart: () => singleFoodCart(food.body.id),
      orders: ORDERS,
      concurrency: 16,
      faultAfter: 40,
      fault: async () => {
        const started = Date.now();
        const exit = await t.system.stop('order', 'SIGTERM');
        stopped = { code: exit!.code, signal: exit!.signal, ms: Date.now() - started };
      },
    });

    expect(stopped).toMatchObject({ code: 0, signal: null });
    expect(stopped!.ms).toBeLessThan(5000);
    // Nothing was left for redelivery or recovery to finish: every client got its order placed.
    expect(answers.filter((a) => a.status !== 201)).toEqual([]);
    const said = logLines()
      .filter((l) => l.instance === 'order')
      .map((l) => l.msg);
    expect(said).toContainEqual(expect.stringMatching(/^Finished the \d+ message\(s\) in flight$/));
    t.system.spawn('order');
    await t.system.waitHealthy();
    const report = await t.settled();
    expect(report.violations).toEqual([]);
    expect(report.pending).toBe(0);
    const recovered = await t.query<RowDataPacket>(`SELECT id FROM ${t.env.ORDER_DB_NAME}.orders WHERE reason = 'COORDINATOR_RECOVERY'`);
    expect(recovered).toEqual([]);
    await t.system.stop('order#2');
  });
});

describe('footprint', () => {
  it('keeps TypeORM and mysql2 out of the gateway, which owns no database', () => {
    // Every file tsc compiled for the gateway (each has its source map: the live page's script, which is the
    // browser's, has none) but main.js, which would start it.
    const root = join(__dirname, '..', 'dist', 'apps', 'gateway', 'src');
    const files = readdirSync(root, { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.js') && file !== 'main.js' && existsSync(join(root, `${file}.map`)))
      .map((file) => join(root, file));
    expect(files.length).toBeGreaterThan(10);
    const script = `for (const file of ${JSON.stringify(files)}) require(file);
      const loaded = Object.keys(require.cache).filter((file) => /node_modules\\/(typeorm|mysql2|@nestjs\\/typeorm)\\//.test(file));
      console.log(JSON.stringify(loaded.slice(0, 5)));`;
    const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual([]);
  });
});
