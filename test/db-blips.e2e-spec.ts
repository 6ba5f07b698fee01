import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { RowDataPacket } from 'mysql2/promise';
import { TestSystem } from './support/harness';
import { Answer, answersViolations } from './support/load';

/**
 * Database connections killed in bursts (the services' own, by database name) while clients place
 * orders, look them up and mark them delivered, and while the order service restarts: every
 * statement is retried or answered 503, never 500; no process dies; every promise holds.
 */

jest.setTimeout(120_000);

const t = new TestSystem('blips', 3910, { LEASE_MS: '10000', RESERVATION_TTL_MS: '5000' });

beforeAll(() => t.start());
afterAll(() => t.stop());

/** Kills every session of this system's databases, over and over, until `stop` resolves. */
async function killInBursts(stop: Promise<void>, everyMs: number): Promise<number> {
  let killed = 0;
  let done = false;
  void stop.then(() => (done = true));
  while (!done) {
    const sessions = await t.query<RowDataPacket>(
      `SELECT id FROM information_schema.processlist WHERE db LIKE ? AND id <> CONNECTION_ID()`,
      [`${t.env.QUEUE_PREFIX.replace(/_/g, '\\_')}%`],
    );
    for (const { id } of sessions) {
      await t.query(`KILL ${Number(id)}`).then(
        () => killed++,
        () => undefined,
      );
    }
    await sleep(everyMs);
  }
  return killed;
}

interface Seen {
  exchanges: Answer[];
  statuses: Map<string, number>;
  errors: string[];
}

/** One client: places an order with a key, retries it once with the same key, looks it up, and marks a placed one delivered. */
async function client(foodId: number, until: number, seen: Seen): Promise<void> {
  const record = (exchange: Answer) => {
    seen.exchanges.push(exchange);
    const name = `${exchange.route} ${exchange.status}`;
    seen.statuses.set(name, (seen.statuses.get(name) ?? 0) + 1);
    if (typeof exchange.status === 'number' && exchange.status >= 500 && exchange.status !== 503) {
      seen.errors.push(`${name} ${JSON.stringify(exchange.body)}`);
    }
  };
  while (Date.now() < until) {
    const key = randomUUID();
    for (let i = 0; i < 2; i++) {
      const { status, body } = await t.post('/orders', { foodId }, { 'idempotency-key': key });
      record({ route: 'POST /orders', status, body, key });
    }
    const orderId = seen.exchanges.at(-1)?.body?.orderId as string | undefined;
    if (!orderId) continue;
    const looked = await t.get(`/orders/${orderId}`);
    record({ route: 'GET /orders/:id', status: looked.status, body: looked.body, orderId });
    if (looked.body.state === 'PLACED') {
      const delivered = await t.post(`/orders/${orderId}/delivered`, {});
      record({ route: 'POST /orders/:id/delivered', status: delivered.status, body: delivered.body, orderId });
    }
  }
}

it('answers no 500 and loses no promise while the services’ database connections are killed in bursts, across an order service restart', async () => {
  const food = await t.post('/foods', { name: 'Blips', packets: 400 });
  await t.post('/agents', { count: 60 });
  const seen: Seen = { exchanges: [], statuses: new Map(), errors: [] };
  const until = Date.now() + 15_000;

  let stopKilling!: () => void;
  const killing = killInBursts(new Promise<void>((resolve) => (stopKilling = resolve)), 150);
  const restart = (async () => {
    await sleep(5_000);
    await t.system.stop('order');
    t.system.spawn('order');
    // The new instance boots while its connections keep being killed: it must come up on its own.
    await t.system.waitHealthy(40_000);
  })();
  await Promise.all(Array.from({ length: 8 }, () => client(food.body.id, until, seen)));
  await restart;
  stopKilling();
  const killed = await killing;

  const report = await t.settled(30_000);
  const i4 = await answersViolations(t, seen.exchanges);
  console.log(JSON.stringify({ killed, answers: Object.fromEntries(seen.statuses), orders: report.orders }));
  expect(killed).toBeGreaterThan(50);
  expect(seen.errors).toEqual([]);
  expect(report.violations).toEqual([]);
  expect(i4).toEqual([]);
  expect(report.pending).toBe(0);
  expect(seen.exchanges.filter((a) => a.route === 'POST /orders' && a.status === 201).length).toBeGreaterThan(10);
});
