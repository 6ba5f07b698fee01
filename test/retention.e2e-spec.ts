import { DeliveryPattern, ErrorCode, newOrderId, orderIdMintedAt, Queue, StorePattern } from '@app/contracts';
import { call, DEV_ORDER_ID_SECRET } from '@app/platform';
import { ClientProxy } from '@nestjs/microservices';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { TestSystem } from './support/harness';
import { agentReserve, cartOfOne, reservePacket } from './support/participants';

/**
 * Retention on the real system with a horizon of seconds: barrier rows and settled orders' log rows
 * go once their order is older than RETENTION_MS, in statements of at most PRUNE_BATCH rows, and
 * nothing an unsettled order or a late message needs goes with them.
 */

jest.setTimeout(120_000);

const RETENTION_MS = 8000;
const PRUNE_INTERVAL_MS = 300;
const PRUNE_BATCH = 5;
// ORDER_LOST_AFTER_MS + LEASE_MS (3 s + 4 s) and RESERVATION_TTL_MS + SWEEP_INTERVAL_MS (3 s + 0.5 s) fit under RETENTION_MS.
const t = new TestSystem('retention', 3913, {
  RETENTION_MS: String(RETENTION_MS),
  PRUNE_INTERVAL_MS: String(PRUNE_INTERVAL_MS),
  PRUNE_BATCH: String(PRUNE_BATCH),
  PRUNE_PAUSE_MS: '20',
  ORDER_WAIT_MS: '3000',
  ORDER_LOST_AFTER_MS: '3000',
  CONTENTION_WAIT_MS: '500',
  LEASE_MS: '4000',
});

beforeAll(() => t.start());
afterAll(() => t.stop());

/** An order id as a gateway mints it, `ageMs` ago. */
const mintedAgo = (ageMs: number) => newOrderId(DEV_ORDER_ID_SECRET, Date.now() - ageMs);
const send = <T>(client: ClientProxy, pattern: string, data: object) => call<T>(client, pattern, data, 3000);

const BARRIERS = [
  { table: () => `${t.env.STORE_DB_NAME}.packet_barrier`, name: 'packet_barrier' },
  { table: () => `${t.env.DELIVERY_DB_NAME}.agent_barrier`, name: 'agent_barrier' },
];

/** The order ids among `orderIds` that still have a row in `table`. */
async function rowsOf(table: string, orderIds: string[]): Promise<string[]> {
  const rows = await t.query(`SELECT order_id FROM ${table} WHERE order_id IN (?) ORDER BY order_id`, [orderIds]);
  return rows.map((row) => row.order_id as string);
}

const logRows = async (orderId: string) =>
  (await t.query(`SELECT state FROM ${t.env.ORDER_DB_NAME}.order_log WHERE order_id = ? ORDER BY id`, [orderId])).map((r) => r.state);
const orderState = async (orderId: string) =>
  (await t.query(`SELECT state FROM ${t.env.ORDER_DB_NAME}.orders WHERE id = ?`, [orderId]))[0]?.state as string | undefined;

/** What the rows of an order hold at both participants: packets and agents, by state. */
async function holdsOf(orderId: string): Promise<string[]> {
  const packets = await t.query(`SELECT state FROM ${t.env.STORE_DB_NAME}.packet WHERE order_id = ?`, [orderId]);
  const agents = await t.query(`SELECT state FROM ${t.env.DELIVERY_DB_NAME}.agent WHERE order_id = ?`, [orderId]);
  return [...packets.map((r) => `packet ${r.state}`), ...agents.map((r) => `agent ${r.state}`)];
}

/** The "Pruned N <table> row(s) ..., in M batch(es)" lines logged so far, summed per table. */
function prunedPerTable(): Record<string, { rows: number; batches: number }> {
  const totals: Record<string, { rows: number; batches: number }> = {};
  for (const line of readFileSync(t.logFile, 'utf8').split('\n')) {
    const match = /"msg":"Pruned (\d+) (\w+) row\(s\) of orders minted before [^"]*, in (\d+) batch\(es\)"/.exec(line);
    if (!match) continue;
    const total = (totals[match[2]] ??= { rows: 0, batches: 0 });
    total.rows += Number(match[1]);
    total.batches += Number(match[3]);
  }
  return totals;
}

describe('barrier rows', () => {
  it('prunes the rows of orders older than RETENTION_MS in small batches, keeps younger ones, and refuses a reserve of a pruned order', async () => {
    const food = await t.post('/foods', { name: 'Kept a week', packets: 2 });
    expect((await t.post('/agents', { count: 2 })).status).toBe(201);
    const store = t.client(Queue.STORE);
    const delivery = t.client(Queue.DELIVERY);
    // Releases (empty rollbacks) a week-old run of the system left behind, past the horizon.
    const old = Array.from({ length: 12 }, (_, i) => mintedAgo(RETENTION_MS + 60_000 + i));
    for (const orderId of old) {
      expect(await send(store, StorePattern.RELEASE_PACKETS, { orderId })).toEqual({ orderId, freed: 0 });
      expect(await send(delivery, DeliveryPattern.RELEASE_AGENT, { orderId })).toEqual({ orderId, freed: 0 });
    }
    // Orders of the last moments: one holding a packet and an agent, one released.
    const young = mintedAgo(0);
    const packetId = await reservePacket(store, young, food.body.id, 3000);
    await send(delivery, DeliveryPattern.RESERVE_AGENT, agentReserve(young));
    const youngReleased = mintedAgo(0);
    await send(store, StorePattern.RELEASE_PACKETS, { orderId: youngReleased });
    await send(delivery, DeliveryPattern.RELEASE_AGENT, { orderId: youngReleased });

    for (const { table } of BARRIERS) {
      await t.until(async () => (await rowsOf(table(), old)).length === 0, 10_000, `${table()}: the old rows pruned`);
      expect(await rowsOf(table(), [young, youngReleased])).toEqual([young, youngReleased].sort());
    }
    expect(Date.now() - orderIdMintedAt(young)!).toBeLessThan(RETENTION_MS);

    // A late copy of a reserve of a pruned (released) order: refused, and it holds and writes nothing.
    await expect(send(store, StorePattern.RESERVE_CART, cartOfOne(old[0], food.body.id))).rejects.toMatchObject({
      code: ErrorCode.ORDER_TOO_OLD,
    });
    await expect(send(delivery, DeliveryPattern.RESERVE_AGENT, agentReserve(old[0]))).rejects.toMatchObject({
      code: ErrorCode.ORDER_TOO_OLD,
    });
    expect(await holdsOf(old[0])).toEqual([]);
    for (const { table } of BARRIERS) expect(await rowsOf(table(), [old[0]])).toEqual([]);
    // The young order still holds what it reserved.
    expect(await t.query(`SELECT id FROM ${t.env.STORE_DB_NAME}.packet WHERE order_id = ?`, [young])).toEqual([{ id: packetId }]);

    // No statement deleted more than PRUNE_BATCH rows: each run took at least ceil(rows / PRUNE_BATCH) of them.
    const pruned = prunedPerTable();
    for (const { name } of BARRIERS) {
      expect({ name, rows: pruned[name]?.rows }).toEqual({ name, rows: old.length });
      expect(pruned[name].batches).toBeGreaterThanOrEqual(Math.ceil(old.length / PRUNE_BATCH));
    }
    const metrics = await (await fetch(`http://127.0.0.1:${t.env.STORE_METRICS_PORT}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`^rows_pruned_total\\{table="packet_barrier",app="store"\\} ${old.length}$`, 'm'));
  });

  it('refuses a late reserve of a placed order whose barrier rows were pruned; the order keeps exactly what it was assigned', async () => {
    const food = await t.post('/foods', { name: 'Placed long ago', packets: 2 });
    expect((await t.post('/agents', { count: 1 })).status).toBe(201);
    const placed = await t.post('/orders', { foodId: food.body.id });
    expect(placed.status).toBe(201);
    const { orderId, packetId, agentId } = placed.body as { orderId: string; packetId: number; agentId: number };

    for (const { table } of BARRIERS) {
      await t.until(async () => (await rowsOf(table(), [orderId])).length === 0, RETENTION_MS + 5000, `${table()}: the order's row pruned`);
    }

    // A copy of the order's reserves, arriving now: with the row gone it would look like a first
    // visit and take a second packet and agent. It is refused instead.
    await expect(send(t.client(Queue.STORE), StorePattern.RESERVE_CART, cartOfOne(orderId, food.body.id))).rejects.toMatchObject({
      code: ErrorCode.ORDER_TOO_OLD,
    });
    await expect(send(t.client(Queue.DELIVERY), DeliveryPattern.RESERVE_AGENT, agentReserve(orderId))).rejects.toMatchObject({
      code: ErrorCode.ORDER_TOO_OLD,
    });
    expect(await holdsOf(orderId)).toEqual(['packet ASSIGNED', 'agent ASSIGNED']);
    expect(await t.query(`SELECT id FROM ${t.env.STORE_DB_NAME}.packet WHERE order_id = ?`, [orderId])).toEqual([{ id: packetId }]);
    expect(await t.query(`SELECT id FROM ${t.env.DELIVERY_DB_NAME}.agent WHERE order_id = ?`, [orderId])).toEqual([{ id: agentId }]);
    for (const { table } of BARRIERS) expect(await rowsOf(table(), [orderId])).toEqual([]);
    expect((await t.check()).violations).toEqual([]);
  });
});

describe('order log', () => {
  it('prunes the log of a settled order only past RETENTION_MS, and keeps every row of an unsettled one', async () => {
    const food = await t.post('/foods', { name: 'Logged', packets: 2 });
    expect((await t.post('/agents', { count: 2 })).status).toBe(201);
    const placed = await t.post('/orders', { foodId: food.body.id });
    expect(placed.status).toBe(201);
    const settled = placed.body.orderId as string;
    expect(await logRows(settled)).toEqual(['RESERVING', 'COMMITTING', 'PLACED']);

    // With delivery down, the next order aborts and cannot finish releasing: it stays ABORTING.
    await t.system.stop('delivery');
    await t.post('/orders', { foodId: food.body.id });
    const unsettled = (
      await t.query(`SELECT id FROM ${t.env.ORDER_DB_NAME}.orders WHERE JSON_CONTAINS(items, JSON_OBJECT('foodId', ?)) AND id <> ?`, [
        food.body.id,
        settled,
      ])
    )[0].id as string;
    await t.until(async () => (await orderState(unsettled)) === 'ABORTING', 10_000, 'the second order to abort');

    // Shortly before the settled order's horizon its log is whole; past it, it goes.
    await sleep(Math.max(0, orderIdMintedAt(settled)! + RETENTION_MS - 2000 - Date.now()));
    expect(await logRows(settled)).toEqual(['RESERVING', 'COMMITTING', 'PLACED']);
    await t.until(async () => (await logRows(settled)).length === 0, 5000, "the settled order's log pruned");

    // The unsettled order, past the horizon too and through several prune runs, keeps its log.
    await sleep(Math.max(0, orderIdMintedAt(unsettled)! + RETENTION_MS + 4 * PRUNE_INTERVAL_MS - Date.now()));
    expect(await orderState(unsettled)).toBe('ABORTING');
    expect(await logRows(unsettled)).toEqual(['RESERVING', 'ABORTING']);

    // The orders themselves are kept, and answer as before.
    const view = await t.get(`/orders/${settled}`);
    expect({ status: view.status, state: view.body.state, log: view.body.log }).toEqual({ status: 200, state: 'PLACED', log: [] });

    // Delivery comes back: its queued reserve of the now too old order is refused, the release
    // goes through, the order settles NOT_PLACED and then its log goes too.
    t.system.spawn('delivery');
    await t.until(async () => (await orderState(unsettled)) === 'NOT_PLACED', 20_000, 'the unsettled order to settle');
    await t.until(async () => (await logRows(unsettled)).length === 0, 5000, 'its log pruned once settled');
    expect(await holdsOf(unsettled)).toEqual([]);
    const report = await t.settled();
    expect(report.violations).toEqual([]);
  });
});
