import { DeliveryPattern, Queue } from '@app/contracts';
import { call } from '@app/platform';
import { RowDataPacket } from 'mysql2/promise';
import { SWEEP_GRACE_MS } from '../scripts/check';
import { TestSystem } from './support/harness';
import { agentReserve, reservePacket } from './support/participants';
import { PrivateMariaDb } from './support/private-mariadb';
import { v7 } from 'uuid';

jest.setTimeout(60_000);

/**
 * The services and the checker against a server whose default time zone is not UTC. West of UTC on
 * purpose: a session left in the server's zone writes expiries seven hours in the past as UTC sees
 * them, and reads an expiry written in UTC as seven hours away. (The shared server runs in UTC,
 * where no other suite can tell.)
 */
const ZONE = '-07:00';
const port = 3908 + Number(process.env.TEST_PORT_OFFSET ?? 0);
// Four thousand above the suite's gateway port, as the services' metrics ports are one to three thousand above it.
const server = new PrivateMariaDb(port + 4000, [`--default-time-zone=${ZONE}`]);
const t = new TestSystem('utc', 3908, { DB_HOST: '127.0.0.1', DB_PORT: String(server.port) });
const TTL_MS = Number(t.env.RESERVATION_TTL_MS);
const SWEEP_MS = Number(t.env.SWEEP_INTERVAL_MS);
const LEASE_MS = Number(t.env.LEASE_MS);
/** How far a time the database stamps may stray from what the test's clock says: both read one machine's clock. */
const SKEW_MS = 1000;

const HOLDS = [
  { what: 'packet', table: () => `\`${t.env.STORE_DB_NAME}\`.packet` },
  { what: 'agent', table: () => `\`${t.env.DELIVERY_DB_NAME}\`.agent` },
];

/** Milliseconds from UTC now until the reservation held for `orderId` in `table` expires (negative once it has). */
async function msUntilExpiry(table: string, orderId: string): Promise<number | undefined> {
  const [row] = await t.query<RowDataPacket>(
    `SELECT TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(3), reserved_until) DIV 1000 AS ms FROM ${table} WHERE order_id = ? AND state = 'RESERVED'`,
    [orderId],
  );
  return row === undefined ? undefined : Number(row.ms);
}

/** Fails, naming `name`, unless low <= value <= high. */
function expectWithin(name: string, value: number | undefined, low: number, high: number): void {
  expect({ [name]: value }).toEqual({ [name]: value !== undefined && value >= low && value <= high ? value : `within [${low}, ${high}]` });
}

async function food(name: string, packets: number): Promise<number> {
  const res = await t.post('/foods', { name, packets });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function reserveBoth(foodId: number): Promise<string> {
  const orderId = v7();
  await reservePacket(t.client(Queue.STORE), orderId, foodId);
  await call(t.client(Queue.DELIVERY), DeliveryPattern.RESERVE_AGENT, agentReserve(orderId), 2000);
  return orderId;
}

beforeAll(async () => {
  await server.start();
  await t.start();
  await t.post('/agents', { count: 3 });
});

afterAll(async () => {
  await t.stop();
  await server.stop();
});

afterEach(async () => {
  const report = await t.settled();
  expect(report.pending).toBe(0);
  expect(report.violations).toEqual([]);
});

it(`runs on a server whose sessions default to ${ZONE}`, async () => {
  expect(await t.query<RowDataPacket>('SELECT @@global.time_zone AS zone')).toEqual([{ zone: ZONE }]);
});

it('holds a reservation RESERVATION_TTL_MS in UTC, and the sweep frees it once that has passed', async () => {
  const orderId = await reserveBoth(await food('Poha', 1));

  await Promise.all(
    HOLDS.map(async ({ what, table }) => {
      const readAt = Date.now();
      const left = await msUntilExpiry(table(), orderId);
      expectWithin(`${what}: ms until expiry`, left, TTL_MS - SKEW_MS, TTL_MS);
      await t.until(async () => (await msUntilExpiry(table(), orderId)) === undefined, TTL_MS + SWEEP_MS + 2000, `the ${what} sweep`);
      expectWithin(`${what}: ms until freed`, Date.now() - readAt, left! - SKEW_MS, left! + SWEEP_MS + SKEW_MS);
    }),
  );
});

it("writes the coordinator's lease and the order's times in UTC", async () => {
  const foodId = await food('Upma', 1);
  const before = Date.now();
  const placed = await t.post('/orders', { foodId });
  const after = Date.now();
  expect(placed.status).toBe(201);

  const [order] = await t.query<RowDataPacket>(
    `SELECT TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(3), lease_until) DIV 1000 AS leaseLeft,
            TIMESTAMPDIFF(MICROSECOND, created_at, UTC_TIMESTAMP(3)) DIV 1000 AS age
     FROM \`${t.env.ORDER_DB_NAME}\`.orders WHERE id = ?`,
    [placed.body.orderId],
  );
  const sinceBefore = Date.now() - before;
  // Each step of the order sets its lease LEASE_MS ahead; its last one ran while the POST did.
  expectWithin('ms until the lease ends', Number(order.leaseLeft), LEASE_MS - sinceBefore - SKEW_MS, LEASE_MS);
  expectWithin('ms since created_at', Number(order.age), -SKEW_MS, sinceBefore + SKEW_MS);
  // What a client reads: the order's time and its steps' are the real ones.
  const view = await t.get(`/orders/${placed.body.orderId}`);
  for (const at of [view.body.createdAt, ...view.body.log.map((e: { at: string }) => e.at)]) {
    expectWithin(`${at} as ms since the epoch`, Date.parse(at), before - SKEW_MS, after + SKEW_MS);
  }
});

it('has the checker report a reservation overdue in UTC (I3)', async () => {
  const orderId = v7();
  const packetId = await reservePacket(t.client(Queue.STORE), orderId, await food('Dhokla', 1));
  const table = HOLDS[0].table();
  // The store stands still, so its sweep cannot free the packet once it expires.
  const store = t.system.pid('store')!;
  process.kill(store, 'SIGSTOP');
  try {
    const overdue = -(SWEEP_MS + SWEEP_GRACE_MS);
    await t.until(
      async () => (await msUntilExpiry(table, orderId))! < overdue - 100,
      TTL_MS - overdue + 2000,
      'the expiry plus the lag I3 allows',
    );
    const report = await t.check();
    expect(report.violations).toEqual([expect.objectContaining({ invariant: 'I3', ids: [`${packetId}:${orderId}`] })]);
  } finally {
    process.kill(store, 'SIGCONT');
  }
  await t.until(async () => (await msUntilExpiry(table, orderId)) === undefined, SWEEP_MS + 2000, 'the store to sweep it');
});

it('runs a connection opened after the old ones were killed in UTC too', async () => {
  const foodId = await food('Khichdi', 1);
  const sessions = await t.query<RowDataPacket>(
    "SELECT id FROM information_schema.processlist WHERE id <> CONNECTION_ID() AND user = 'root' AND command <> 'Daemon'",
  );
  expect(sessions.length).toBeGreaterThan(0);
  for (const { id } of sessions) await t.query('KILL CONNECTION ?', [id]);
  // A killed session lingers in the process list until the server has torn it down.
  const survivors = () =>
    t.query<RowDataPacket>('SELECT id FROM information_schema.processlist WHERE id IN (?)', [sessions.map((s) => s.id)]);
  await t.until(async () => (await survivors()).length === 0, 10_000, 'the killed sessions to end');

  const orderId = await reserveBoth(foodId);
  for (const { what, table } of HOLDS) {
    const left = await msUntilExpiry(table(), orderId);
    expectWithin(`${what}: ms until expiry`, left, TTL_MS - SKEW_MS, TTL_MS);
  }
  for (const { table } of HOLDS) await t.until(async () => (await msUntilExpiry(table(), orderId)) === undefined, TTL_MS + SWEEP_MS + 2000);
});
