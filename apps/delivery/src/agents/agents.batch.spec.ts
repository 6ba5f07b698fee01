import { ContractError, DeliveryPattern, ErrorCode, Outcome, ReserveAgentDto } from '@app/contracts';
import { randomUUID } from 'node:crypto';
import { v7 } from 'uuid';
import { ordersCommitted } from '../../../../libs/database/src/testing/batch-sizes';
import { watchLockConflicts } from '../../../../libs/database/src/testing/lock-conflicts';
import { countRoundTrips } from '../../../../libs/database/src/testing/round-trips';
import { startService } from '../../../../libs/database/src/testing/service-under-test';
import { DeliveryModule } from '../delivery.module';
import { AgentsService } from './agents.service';

/**
 * Group commit at delivery against the real MariaDB: many orders' reserves, assigns and releases in
 * one transaction each, every order answered on its own, as if its requests ran one by one. Each
 * test adds agents to dark stores of its own (delivery does not check store ids: the gateway does).
 */

const RETENTION_MS = 3_600_000;
let service: Awaited<ReturnType<typeof startService>>;
let agents: AgentsService;
let lastStore = 100;

beforeAll(async () => {
  service = await startService(DeliveryModule, 'DELIVERY_DB_NAME', 'unit_delivery_batch', {
    RESERVATION_TTL_MS: '60000',
    SWEEP_INTERVAL_MS: '600000',
    RETENTION_MS: String(RETENTION_MS),
    PRUNE_INTERVAL_MS: '86400000',
    DELIVERY_METRICS_PORT: '0',
  });
  agents = service.app.get(AgentsService);
});
afterAll(() => service?.close());

/** A dark store of this test with `count` free agents. */
async function store(count: number): Promise<number> {
  const storeId = ++lastStore;
  if (count > 0) await agents.create(storeId, count, undefined, randomUUID());
  return storeId;
}

const order = (storeId: number, attempt = 1): ReserveAgentDto => ({ orderId: v7(), storeId, attempt });
const ok = <T>(outcome: Outcome<T>): T => {
  if ('error' in outcome) throw new Error(`expected a reply, got ${outcome.error.code}: ${outcome.error.message}`);
  return outcome.ok;
};
const error = <T>(outcome: Outcome<T>): ContractError | undefined => ('error' in outcome ? outcome.error : undefined);

const heldBy = (orderId: string) =>
  service.rows<{ id: number; store_id: number; state: string; hold_attempt: number | null }>(
    `SELECT id, store_id, state, hold_attempt FROM agent WHERE order_id = ?`,
    [orderId],
  );
const barrier = (orderId: string) => service.rows(`SELECT released FROM agent_barrier WHERE order_id = ?`, [orderId]);
const assignedIn = async (storeId: number) =>
  Number((await service.rows<{ assigned: string }>(`SELECT assigned FROM agent_count WHERE store_id = ?`, [storeId]))[0].assigned);

describe('AgentsService batches', () => {
  it('holds an agent of its own store for each order of a batch mixing stores, in one transaction', async () => {
    const [near, far] = [await store(3), await store(2)];
    const orders = [order(near), order(far), order(near), order(far), order(near)];

    const before = await ordersCommitted(DeliveryPattern.RESERVE_AGENTS);

    const outcomes = (await agents.reserveBatch(orders)).map(ok);

    expect(await ordersCommitted(DeliveryPattern.RESERVE_AGENTS)).toBe(before + orders.length);
    expect(outcomes.map((reservation) => reservation.orderId)).toEqual(orders.map((o) => o.orderId));
    expect(new Set(outcomes.map((reservation) => reservation.agentId)).size).toBe(5);
    for (const [i, { agentId }] of outcomes.entries()) {
      expect(await heldBy(orders[i].orderId)).toEqual([{ id: agentId, store_id: orders[i].storeId, state: 'RESERVED', hold_attempt: 1 }]);
    }
  });

  it('reserves a batch over three stores in three round trips to the database, and assigns it in two', async () => {
    const stores = [await store(2), await store(2), await store(2)];
    const orders = [order(stores[0]), order(stores[1]), order(stores[2]), order(stores[0])];

    const trips = countRoundTrips();
    try {
      const reserved = (await agents.reserveBatch(orders)).map(ok);
      // The barriers with BEGIN; the free agents of every store; the hand-out with COMMIT.
      expect(trips.count()).toBe(3);
      await agents.assignBatch(reserved.map(({ orderId, agentId }) => ({ orderId, agentId })));
      // The agents locked with BEGIN; their marks and the three count rows with COMMIT.
      expect(trips.count()).toBe(3 + 2);
    } finally {
      trips.stop();
    }
    for (const o of orders) expect((await heldBy(o.orderId)).map((row) => row.state)).toEqual(['ASSIGNED']);
    expect(await Promise.all(stores.map(assignedIn))).toEqual([2, 1, 1]);
  });

  it('refuses an order of a store with no agent alone (NO_AGENT), and gives a later order "ask again" while earlier ones hold the last agent (I7)', async () => {
    const [one, none, other] = [await store(1), await store(0), await store(1)];
    const orders = [order(one), order(none), order(one), order(other)];

    const outcomes = await agents.reserveBatch(orders);

    expect(outcomes.map((outcome) => error(outcome)?.code)).toEqual([undefined, ErrorCode.NO_AGENT, ErrorCode.ALL_RESERVED, undefined]);
    for (const refused of [orders[1], orders[2]]) {
      expect(await heldBy(refused.orderId)).toEqual([]);
      expect(await barrier(refused.orderId)).toEqual([]);
    }
    // Once the only agent is assigned it will not come back: then it is a refusal.
    await agents.assign(orders[0].orderId, ok(outcomes[0]).agentId);
    expect((await agents.reserveBatch([order(one)])).map((outcome) => error(outcome)?.code)).toEqual([ErrorCode.NO_AGENT]);
  });

  it('refuses a released order of a batch alone (ORDER_RELEASED), and an order past retention alone, writing nothing for either', async () => {
    const storeId = await store(3);
    const [before, released, after] = [order(storeId), order(storeId), order(storeId)];
    const old = { ...order(storeId), orderId: v7({ msecs: Date.now() - RETENTION_MS - 1000 }) };
    await agents.release(released.orderId);

    const outcomes = await agents.reserveBatch([before, released, old, after]);

    expect(outcomes.map((outcome) => error(outcome)?.code)).toEqual([
      undefined,
      ErrorCode.ORDER_RELEASED,
      ErrorCode.ORDER_TOO_OLD,
      undefined,
    ]);
    expect(await heldBy(released.orderId)).toEqual([]);
    expect(await barrier(released.orderId)).toEqual([{ released: 1 }]);
    expect(await heldBy(old.orderId)).toEqual([]);
    expect(await barrier(old.orderId)).toEqual([]);
  });

  it('answers a reserve repeated in a later batch, or twice in one batch, with the agent the first one took, under the latest attempt', async () => {
    const storeId = await store(3);
    const [a, b] = [order(storeId), order(storeId)];

    const first = (await agents.reserveBatch([a, { ...b, attempt: 2 }, { ...b, attempt: 3 }, { ...a, attempt: 1 }])).map(ok);
    const again = (await agents.reserveBatch([{ ...a, attempt: 4 }, order(storeId), { ...b, attempt: 1 }])).map(ok);

    expect(first[2]).toEqual(first[1]);
    expect(first[3]).toEqual(first[0]);
    expect(again[0]).toEqual(first[0]);
    expect(again[2]).toEqual(first[1]);
    expect(await heldBy(a.orderId)).toEqual([{ id: first[0].agentId, store_id: storeId, state: 'RESERVED', hold_attempt: 4 }]);
    expect(await heldBy(b.orderId)).toEqual([{ id: first[1].agentId, store_id: storeId, state: 'RESERVED', hold_attempt: 3 }]);
  });

  it('assigns a batch: each order exactly its logged agent, one RESERVATION_LOST alone, counted once per store', async () => {
    const [near, far] = [await store(2), await store(2)];
    const orders = [order(near), order(far), order(near), order(far)];
    const reserved = (await agents.reserveBatch(orders)).map(ok);
    const requests = [
      reserved[0],
      // Names the agent of another order: lost, and its own agent stays reserved.
      { orderId: orders[1].orderId, agentId: reserved[3].agentId },
      reserved[2],
      reserved[3],
      reserved[0],
    ];

    const outcomes = await agents.assignBatch(requests);

    expect(outcomes.map((outcome) => error(outcome)?.code)).toEqual([
      undefined,
      ErrorCode.RESERVATION_LOST,
      undefined,
      undefined,
      undefined,
    ]);
    expect(ok(outcomes[0])).toEqual(reserved[0]);
    expect((await heldBy(orders[1].orderId)).map((agent) => agent.state)).toEqual(['RESERVED']);
    for (const i of [0, 2, 3]) expect((await heldBy(orders[i].orderId)).map((agent) => agent.state)).toEqual(['ASSIGNED']);
    expect([await assignedIn(near), await assignedIn(far)]).toEqual([2, 1]);
    // Repeated as a whole: answered alike, counted nothing more.
    expect((await agents.assignBatch(requests)).map((outcome) => error(outcome)?.code)).toEqual([
      undefined,
      ErrorCode.RESERVATION_LOST,
      undefined,
      undefined,
      undefined,
    ]);
    expect([await assignedIn(near), await assignedIn(far)]).toEqual([2, 1]);
  });

  it('releases a batch: frees the agent each order holds, reserved or assigned, counts exact, and bars later reserves of all', async () => {
    const [near, far] = [await store(2), await store(2)];
    const orders = [order(near), order(far), order(near), order(far)];
    const reserved = (await agents.reserveBatch(orders)).map(ok);
    await agents.assignBatch([reserved[0], reserved[1], reserved[3]]);
    expect([await assignedIn(near), await assignedIn(far)]).toEqual([1, 2]);
    const never = v7();

    const outcomes = (await agents.releaseBatch([...orders.map(({ orderId }) => ({ orderId })), { orderId: never }, orders[0]])).map(ok);

    expect(outcomes.map((result) => result.freed)).toEqual([1, 1, 1, 1, 0, 0]);
    expect([await assignedIn(near), await assignedIn(far)]).toEqual([0, 0]);
    for (const { orderId } of orders) expect(await heldBy(orderId)).toEqual([]);
    const late = await agents.reserveBatch([...orders, { ...order(near), orderId: never }]);
    expect(late.map((outcome) => error(outcome)?.code)).toEqual(Array(5).fill(ErrorCode.ORDER_RELEASED));
  });

  it('runs many batches at once over two stores, in opposite orders: no deadlock, no agent given twice, exactly as many held as there are; then their assigns and releases at once, counts exact (I1, I5, I7)', async () => {
    const stores = [await store(20), await store(12)];
    const batches = Array.from({ length: 16 }, (_, i) =>
      Array.from({ length: 6 }, (_, j) => order(stores[(i + j) % 2])).sort((x, y) =>
        i % 2 === 0 ? x.storeId - y.storeId : y.storeId - x.storeId,
      ),
    );
    const reserving = watchLockConflicts();

    const answers = (await Promise.all(batches.map((batch) => agents.reserveBatch(batch))).finally(reserving.stop)).flat();

    expect(reserving.conflicts).toEqual([]);
    const orders = batches.flat();
    const given = answers.flatMap((outcome) => ('ok' in outcome ? [outcome.ok.agentId] : []));
    expect(new Set(given).size).toBe(given.length);
    // 48 orders per store ask for 20 and 12 agents: every agent held, every other order told to ask again.
    expect(given).toHaveLength(32);
    expect(answers.filter((outcome) => 'error' in outcome).map((outcome) => error(outcome)?.code)).toEqual(
      Array(96 - 32).fill(ErrorCode.ALL_RESERVED),
    );
    const rows = await service.rows<{ id: number; order_id: string }>(
      `SELECT id, order_id FROM agent WHERE store_id IN (?) AND order_id IS NOT NULL`,
      [stores],
    );
    expect(rows.map((row) => row.id).sort((x, y) => x - y)).toEqual([...given].sort((x, y) => x - y));

    const placed = orders.flatMap((o, i) => ('ok' in answers[i] ? [answers[i].ok] : []));
    const toAssign = placed.filter((_, i) => i % 3 !== 0);
    const toRelease = [...placed.filter((_, i) => i % 3 === 0), ...orders.filter((_, i) => 'error' in answers[i])].map(({ orderId }) => ({
      orderId,
    }));
    const phase2 = watchLockConflicts();
    await Promise.all([
      ...[0, 1, 2, 3].map((k) => agents.assignBatch(toAssign.filter((_, i) => i % 4 === k))),
      ...[0, 1, 2, 3].map((k) => agents.assignBatch(toAssign.filter((_, i) => i % 4 === k).reverse())),
      ...[0, 1, 2].map((k) => agents.releaseBatch(toRelease.filter((_, i) => i % 3 === k))),
    ]).finally(phase2.stop);

    expect(phase2.conflicts).toEqual([]);
    const storeOf = new Map(orders.map((o) => [o.orderId, o.storeId]));
    for (const storeId of stores) {
      const [{ rows: assignedRows }] = await service.rows<{ rows: string }>(
        `SELECT COUNT(*) AS \`rows\` FROM agent WHERE store_id = ? AND state = 'ASSIGNED'`,
        [storeId],
      );
      const assigned = toAssign.filter((reservation) => storeOf.get(reservation.orderId) === storeId).length;
      expect([await assignedIn(storeId), Number(assignedRows)]).toEqual([assigned, assigned]);
    }
    expect(await service.rows(`SELECT id FROM agent WHERE order_id IN (?)`, [toRelease.map((o) => o.orderId)])).toEqual([]);
  });
});
