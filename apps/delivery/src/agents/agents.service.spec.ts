import { DEFAULT_STORE_ID, ErrorCode, orderIdFloor } from '@app/contracts';
import { RpcException } from '@nestjs/microservices';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { v7 } from 'uuid';
import { startService } from '../../../../libs/database/src/testing/service-under-test';
import { DeliveryModule } from '../delivery.module';
import { AgentsService } from './agents.service';

/**
 * Delivery's side of the two-phase commit against the real MariaDB: what reserve, yield, assign,
 * release and complete do to agent rows. Each test starts from agents of its own: every agent
 * another test left is assigned first, so reserves only find this test's.
 */

const TTL_MS = 1500;
const RETENTION_MS = 3_600_000;
/** The dark store of the tests' agents (the default one); one test adds agents to another. */
const STORE = DEFAULT_STORE_ID;
let service: Awaited<ReturnType<typeof startService>>;
let agents: AgentsService;

beforeAll(async () => {
  service = await startService(DeliveryModule, 'DELIVERY_DB_NAME', 'unit_delivery', {
    RESERVATION_TTL_MS: String(TTL_MS),
    SWEEP_INTERVAL_MS: '600000',
    RETENTION_MS: String(RETENTION_MS),
    // The test prunes by hand (pruneBarrier), so the periodic run stays out of its way.
    PRUNE_INTERVAL_MS: '86400000',
    DELIVERY_METRICS_PORT: '0',
  });
  agents = service.app.get(AgentsService);
});
afterAll(() => service?.close());

/** `count` free agents, and none other free or reserved. */
async function onlyAgents(count: number): Promise<number[]> {
  await service.rows(
    `UPDATE agent SET state = 'ASSIGNED', order_id = UUID(), reserved_until = NULL, hold_attempt = NULL WHERE state <> 'ASSIGNED'`,
  );
  const before = await service.rows<{ id: number }>(`SELECT MAX(id) AS id FROM agent`);
  await agents.create(STORE, count, undefined, randomUUID());
  const rows = await service.rows<{ id: number }>(`SELECT id FROM agent WHERE id > ? ORDER BY id`, [before[0].id ?? 0]);
  return rows.map((r) => Number(r.id));
}

/** Agents assigned as agent_count, which GET /agents reads, says (onlyAgents retires agents behind its back: compare changes). */
const assignedCount = async () =>
  Number((await service.rows<{ assigned: string }>(`SELECT assigned FROM agent_count WHERE store_id = ?`, [STORE]))[0].assigned);

const heldBy = (orderId: string) =>
  service.rows<{ id: number; state: string; hold_attempt: number | null }>(`SELECT id, state, hold_attempt FROM agent WHERE order_id = ?`, [
    orderId,
  ]);
const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'ok',
    (err: RpcException) => (err.getError() as { code: ErrorCode }).code,
  );

describe('AgentsService', () => {
  it('holds one agent per order under its reserve attempt; a repeat answers the same agent, now under the newer attempt', async () => {
    const [only] = await onlyAgents(1);
    const orderId = v7();

    expect(await agents.reserve(orderId, STORE, 1)).toEqual({ orderId, agentId: only });
    expect(await agents.reserve(orderId, STORE, 2)).toEqual({ orderId, agentId: only });
    expect(await agents.reserve(orderId, STORE, 1)).toEqual({ orderId, agentId: only });
    expect(await heldBy(orderId)).toEqual([{ id: only, state: 'RESERVED', hold_attempt: 2 }]);
  });

  it('frees an agent on a yield only while the named attempt holds it: a late copy of an old yield frees nothing', async () => {
    const [only] = await onlyAgents(1);
    const orderId = v7();
    await agents.reserve(orderId, STORE, 1);

    expect(await agents.yield(orderId, only, 1)).toEqual({ orderId, freed: 1 });
    // Asked again: the only agent, held now by attempt 2; the first yield arrives again.
    expect(await agents.reserve(orderId, STORE, 2)).toEqual({ orderId, agentId: only });
    expect(await agents.yield(orderId, only, 1)).toEqual({ orderId, freed: 0 });
    expect(await agents.yield(orderId, only + 1, 2)).toEqual({ orderId, freed: 0 });
    expect(await agents.assign(orderId, only)).toEqual({ orderId, agentId: only });
    // A yield never frees an assigned agent.
    expect(await agents.yield(orderId, only, 2)).toEqual({ orderId, freed: 0 });
    expect(await heldBy(orderId)).toEqual([{ id: only, state: 'ASSIGNED', hold_attempt: null }]);
  });

  it('says "ask again" while agents are held by orders still deciding, and NO_AGENT when none can come back', async () => {
    const [only] = await onlyAgents(1);
    const holder = v7();
    await agents.reserve(holder, STORE, 1);

    expect(await codeOf(agents.reserve(v7(), STORE, 1))).toBe(ErrorCode.ALL_RESERVED);
    await agents.assign(holder, only);
    expect(await codeOf(agents.reserve(v7(), STORE, 1))).toBe(ErrorCode.NO_AGENT);
  });

  it('lets a new order take an agent whose reservation expired; the first order then loses it at assign', async () => {
    const [only] = await onlyAgents(1);
    const late = v7();
    await agents.reserve(late, STORE, 1);
    await sleep(TTL_MS + 100);

    const next = v7();
    expect(await agents.reserve(next, STORE, 1)).toEqual({ orderId: next, agentId: only });
    expect(await codeOf(agents.assign(late, only))).toBe(ErrorCode.RESERVATION_LOST);
  });

  it('releases the order’s agent and bars a later reserve; completes a delivery by freeing only an assigned agent', async () => {
    const [first, second] = await onlyAgents(2);
    const aborted = v7();
    await agents.reserve(aborted, STORE, 1);
    expect(await agents.release(aborted)).toEqual({ orderId: aborted, freed: 1 });
    expect(await codeOf(agents.reserve(aborted, STORE, 2))).toBe(ErrorCode.ORDER_RELEASED);

    const delivered = v7();
    const { agentId } = await agents.reserve(delivered, STORE, 1);
    expect([first, second]).toContain(agentId);
    expect(await agents.complete(delivered)).toEqual({ orderId: delivered, freed: 0 });
    const before = await assignedCount();
    await agents.assign(delivered, agentId);
    await agents.assign(delivered, agentId);
    expect(await assignedCount()).toBe(before + 1);
    expect(await agents.complete(delivered)).toEqual({ orderId: delivered, freed: 1 });
    expect(await agents.complete(delivered)).toEqual({ orderId: delivered, freed: 0 });
    expect(await assignedCount()).toBe(before);
    expect(await heldBy(delivered)).toEqual([]);
  });

  it('gives each of many racing orders its own agent, exactly as many as there are (I1, I7)', async () => {
    const ids = await onlyAgents(15);
    const outcomes = await Promise.all(
      Array.from({ length: 30 }, () =>
        agents.reserve(v7(), STORE, 1).then(
          (r) => r.agentId,
          () => undefined,
        ),
      ),
    );

    const got = outcomes.filter((id) => id !== undefined);
    expect(new Set(got)).toEqual(new Set(ids));
    expect(got).toHaveLength(15);
  });

  it('serves an order only with an agent of its own dark store: NO_AGENT while another store has free agents (I8)', async () => {
    await onlyAgents(0);
    await agents.create(2, 2, undefined, randomUUID());

    expect(await codeOf(agents.reserve(v7(), STORE, 1))).toBe(ErrorCode.NO_AGENT);
    const orderId = v7();
    const { agentId } = await agents.reserve(orderId, 2, 1);
    expect(await service.rows(`SELECT store_id FROM agent WHERE id = ?`, [agentId])).toEqual([{ store_id: 2 }]);
    expect(await agents.view(2)).toEqual([{ storeId: 2, agents: { free: 1, reserved: 1, assigned: 0, total: 2 } }]);
    await agents.release(orderId);
  });

  it('refuses a reserve of an order older than RETENTION_MS once its barrier row is pruned, holding and writing nothing', async () => {
    await onlyAgents(1);
    const old = v7({ msecs: Date.now() - RETENTION_MS - 1000 });
    await agents.release(old);
    const barrierRow = () => service.rows(`SELECT order_id FROM agent_barrier WHERE order_id = ?`, [old]);

    expect(await agents.pruneBarrier(orderIdFloor(Date.now() - RETENTION_MS), 1000)).toBe(1);
    expect(await barrierRow()).toEqual([]);

    expect(await codeOf(agents.reserve(old, STORE, 1))).toBe(ErrorCode.ORDER_TOO_OLD);
    expect(await heldBy(old)).toEqual([]);
    expect(await barrierRow()).toEqual([]);
  });
});
