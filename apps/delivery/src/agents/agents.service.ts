import {
  AgentAssignment,
  AgentReservation,
  AgentsCreated,
  AssignAgentDto,
  DeliveryPattern,
  ErrorCode,
  HoldState,
  OrderRefDto,
  Outcome,
  ReleaseResult,
  ReserveAgentDto,
  StoreAgents,
} from '@app/contracts';
import { insertRows, isDuplicateKey, once, pruner, Queryable, transaction, Tx, withRetries } from '@app/database';
import {
  barrierRefusals,
  closeBarriers,
  commitBatch,
  commitOne,
  enterBarriers,
  expirySweeper,
  firstOfEach,
  leaveBarriers,
  nothingToReserve,
  tookExpired,
} from '@app/participant';
import { ContractException, outcomeOf, PeriodicTask } from '@app/platform';
import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { ResultSetHeader } from 'mysql2';
import { DataSource } from 'typeorm';
import { DeliveryEnv } from '../config/delivery.env';

type Ids = { id: number | string }[];

/**
 * The delivery side of the two-phase commit: agents held, assigned and given back per order. Every
 * method is keyed by order id and safe to repeat. Transactions run under READ COMMITTED (see
 * transaction()): SKIP LOCKED under REPEATABLE READ takes gap locks that deadlock concurrent reserves.
 * A batch locks its agents by id or by order id through the index named (FORCE INDEX): for an IN list
 * on a small table the optimizer would rather scan the whole table, waiting on rows of orders not
 * its own, and two batches scanning so deadlock.
 */
@Injectable()
export class AgentsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly sweeper: PeriodicTask;
  private readonly barrierPruner: PeriodicTask;

  constructor(
    private readonly dataSource: DataSource,
    private readonly env: DeliveryEnv,
  ) {
    this.sweeper = expirySweeper('agent', env.SWEEP_INTERVAL_MS, (batch) => this.sweepExpired(batch));
    this.barrierPruner = pruner('agent_barrier', env, (floor, batch) => this.pruneBarrier(floor, batch));
  }

  /** Phase 1 for a batch of orders, in one transaction: see reserveAll. */
  reserveBatch(requests: ReserveAgentDto[]): Promise<Outcome<AgentReservation>[]> {
    return commitBatch(this.dataSource, DeliveryPattern.RESERVE_AGENTS, requests, (tx, batch) => this.reserveAll(tx, batch));
  }

  reserve(orderId: string, storeId: number, attempt: number): Promise<AgentReservation> {
    return commitOne(this.dataSource, { orderId, storeId, attempt }, (tx, batch) => this.reserveAll(tx, batch));
  }

  /**
   * Gives back the agent that reserve `attempt` of the order holds, while the order waits for a
   * packet. Unlike release it leaves the barrier open, so the order may reserve again. Fenced by
   * the attempt: once a later attempt holds the agent (maybe this very one), a late or repeated
   * copy of this yield frees nothing. One statement on the agent row: atomic on its own.
   */
  yield(orderId: string, agentId: number, attempt: number): Promise<ReleaseResult> {
    return withRetries(async () => {
      const result: ResultSetHeader = await this.dataSource.query(
        `UPDATE agent SET state = 'FREE', order_id = NULL, reserved_until = NULL, hold_attempt = NULL
          WHERE id = ? AND order_id = ? AND state = 'RESERVED' AND hold_attempt = ?`,
        [agentId, orderId, attempt],
      );
      return { orderId, freed: result.affectedRows };
    });
  }

  /** Phase 2 for a batch of orders, in one transaction: see assignAll. */
  assignBatch(requests: AssignAgentDto[]): Promise<Outcome<AgentAssignment>[]> {
    return commitBatch(this.dataSource, DeliveryPattern.ASSIGN_AGENTS, requests, (tx, batch) => this.assignAll(tx, batch));
  }

  assign(orderId: string, agentId: number): Promise<AgentAssignment> {
    return commitOne(this.dataSource, { orderId, agentId }, (tx, batch) => this.assignAll(tx, batch));
  }

  /** Abort for a batch of orders, in one transaction: see releaseAll. */
  releaseBatch(requests: OrderRefDto[]): Promise<Outcome<ReleaseResult>[]> {
    return commitBatch(this.dataSource, DeliveryPattern.RELEASE_AGENTS, requests, (tx, batch) => this.releaseAll(tx, batch));
  }

  release(orderId: string): Promise<ReleaseResult> {
    return commitOne(this.dataSource, { orderId }, (tx, batch) => this.releaseAll(tx, batch));
  }

  /** The order was delivered: frees its agent and bars later reserves of the order. */
  complete(orderId: string): Promise<ReleaseResult> {
    return transaction(this.dataSource, async (tx) => {
      closeBarriers(tx, 'agent_barrier', [orderId]);
      return { orderId, freed: await this.freeAssigned(tx, orderId) };
    });
  }

  /** Frees up to `batch` reservations past their expiry; READ COMMITTED, like reserve, so it gap-locks nothing. */
  async sweepExpired(batch: number): Promise<number> {
    const result = await transaction(this.dataSource, (tx): Promise<ResultSetHeader> =>
      tx.query(
        `UPDATE agent SET state = 'FREE', order_id = NULL, reserved_until = NULL, hold_attempt = NULL
            WHERE state = 'RESERVED' AND reserved_until < NOW(3) LIMIT ?`,
        [batch],
      ),
    );
    return result.affectedRows;
  }

  /**
   * Deletes up to `batch` barrier rows of orders minted before `floor`, oldest first: a range of the
   * primary key, far below the rows of new orders that reserves insert and lock. READ COMMITTED,
   * like the sweep, so it gap-locks nothing. Reserves of those orders are refused by age instead.
   */
  async pruneBarrier(floor: string, batch: number): Promise<number> {
    const result = await transaction(this.dataSource, (tx): Promise<ResultSetHeader> =>
      tx.query(`DELETE FROM agent_barrier WHERE order_id < ? ORDER BY order_id LIMIT ?`, [floor, batch]),
    );
    return result.affectedRows;
  }

  /**
   * Adds `count` anonymous agents or the named ones to a dark store, once per Idempotency-Key (see
   * once()), in one transaction with retries; bounded by MAX_AGENTS_PER_REQUEST so it commits well
   * inside the gateway's wait. The gateway has checked the store exists (the store service owns them).
   */
  create(storeId: number, count: number | undefined, names: string[] | undefined, idempotencyKey: string): Promise<AgentsCreated> {
    const rows = (names ?? new Array<null>(count ?? 0).fill(null)).map((name) => [storeId, name]);
    const request = names ? { storeId, names } : { storeId, count };
    return once(this.dataSource, 'agent_addition', idempotencyKey, request, async (manager) => {
      try {
        await insertRows(manager, 'agent', ['store_id', 'name'], rows);
      } catch (err) {
        if (isDuplicateKey(err)) throw new ContractException(ErrorCode.AGENT_EXISTS, 'An agent with one of these names already exists');
        throw err;
      }
      // Last: every assign of the store updates this row, so the lock is held only until the commit.
      await manager.query(`INSERT INTO agent_count (store_id, total) VALUES (?, ?) ON DUPLICATE KEY UPDATE total = total + VALUES(total)`, [
        storeId,
        rows.length,
      ]);
      const [agents] = await this.counts(manager, storeId);
      return { ...agents, created: rows.length };
    });
  }

  /** The agents of every dark store that has some, or of `storeId` only (zeros if it has none). */
  async view(storeId?: number): Promise<StoreAgents[]> {
    const counts = await withRetries(() => this.counts(this.dataSource.manager, storeId));
    return storeId !== undefined && counts.length === 0 ? [{ storeId, agents: { free: 0, reserved: 0, assigned: 0, total: 0 } }] : counts;
  }

  /**
   * The agents by state per store, from agent_count and the reserved agents (see the AgentCount
   * migration): no agent row is read but the reserved ones, counted on idx_agent_pick. One
   * statement, one consistent view.
   */
  private async counts(manager: Queryable, storeId?: number): Promise<StoreAgents[]> {
    const rows: { storeId: number; total: number | string; assigned: number | string; reserved: number | string }[] = await manager.query(
      `SELECT c.store_id AS storeId, c.total, c.assigned,
              (SELECT COUNT(*) FROM agent a WHERE a.store_id = c.store_id AND a.state = 'RESERVED') AS reserved
         FROM agent_count c ${storeId === undefined ? '' : 'WHERE c.store_id = ?'} ORDER BY c.store_id`,
      storeId === undefined ? [] : [storeId],
    );
    return rows.map((row) => {
      const [total, assigned, reserved] = [Number(row.total), Number(row.assigned), Number(row.reserved)];
      return { storeId: Number(row.storeId), agents: { free: total - assigned - reserved, reserved, assigned, total } };
    });
  }

  /**
   * Frees the agent the order has assigned and uncounts it in agent_count, in one statement: an
   * order holds at most one agent (order_id is unique), so the join meets the count row once.
   */
  private async freeAssigned(tx: Tx, orderId: string): Promise<number> {
    const result: ResultSetHeader = await tx.query(
      `UPDATE agent a JOIN agent_count c ON c.store_id = a.store_id
          SET a.state = 'FREE', a.order_id = NULL, a.hold_attempt = NULL, c.assigned = c.assigned - 1
        WHERE a.order_id = ? AND a.state = 'ASSIGNED'`,
      [orderId],
    );
    return result.affectedRows > 0 ? 1 : 0;
  }

  /**
   * Phase 1: holds one agent of each order's dark store for the order until the reservation
   * expires, under the order's reserve `attempt`. Free agents first, else ones whose reservation
   * expired; agents other reserves are locking are skipped, never waited for. The agents the batch
   * locked are handed out in request order. An order holds at most one agent (order_id is unique):
   * a repeated or later reserve answers with the agent it holds, now held under the newer attempt
   * (two requests of an order in one batch: the later attempt of the two, as if one ran after the
   * other). An order older than RETENTION_MS, whose barrier row may be pruned, is refused
   * (ORDER_TOO_OLD); each refusal is the order's own and writes nothing.
   */
  private async reserveAll(tx: Tx, requests: ReserveAgentDto[]): Promise<Outcome<AgentReservation>[]> {
    const barriers = await enterBarriers(
      tx,
      'agent_barrier',
      requests.map((request) => request.orderId),
    );
    const orders = firstOfEach(requests).map((order) => ({
      ...order,
      attempt: Math.max(...requests.filter((request) => request.orderId === order.orderId).map((request) => request.attempt)),
    }));
    const refusals = barrierRefusals(barriers, this.env.RETENTION_MS);
    const held = await this.holdAgain(
      tx,
      orders.filter(({ orderId }) => !barriers.get(orderId)!.firstVisit && !refusals.has(orderId)),
    );

    const toTake = orders.filter(({ orderId }) => !refusals.has(orderId) && !held.has(orderId));
    const { free, expired } = await this.lockAgents(tx, toTake);
    const given = new Map<string, number>();
    const short = new Set<number>();
    for (const { orderId, storeId } of toTake) {
      const agentId = free.get(storeId)!.shift();
      if (agentId === undefined) short.add(storeId);
      else given.set(orderId, agentId);
    }
    if (given.size > 0) {
      tx.defer(
        `UPDATE agent a
           JOIN JSON_TABLE(?, '$[*]' COLUMNS (id INT UNSIGNED PATH '$[0]', order_id CHAR(36) PATH '$[1]', attempt INT UNSIGNED PATH '$[2]'))
                AS given ON given.id = a.id
            SET a.state = 'RESERVED', a.order_id = given.order_id, a.reserved_until = NOW(3) + INTERVAL ? MICROSECOND,
                a.hold_attempt = given.attempt`,
        [
          JSON.stringify(
            toTake.filter(({ orderId }) => given.has(orderId)).map(({ orderId, attempt }) => [given.get(orderId), orderId, attempt]),
          ),
          this.env.RESERVATION_TTL_MS * 1000,
        ],
      );
      const takenOver = [...given.values()].filter((agentId) => expired.has(agentId)).length;
      if (takenOver > 0) tookExpired('agent', takenOver);
    }
    // After the update: the agents given to earlier orders of the batch count as held by orders still deciding (I7).
    const storeRefusals = new Map<number, ContractException>();
    for (const storeId of [...short].sort((a, b) => a - b)) storeRefusals.set(storeId, await this.refusal(tx, storeId));
    for (const { orderId, storeId } of toTake) if (!given.has(orderId)) refusals.set(orderId, storeRefusals.get(storeId)!);
    leaveBarriers(tx, 'agent_barrier', [...refusals.keys()]);

    const outcomes: Outcome<AgentReservation>[] = [];
    for (const { orderId } of requests) {
      outcomes.push(
        await outcomeOf(async () => {
          const refusal = refusals.get(orderId);
          if (refusal) throw refusal;
          return { orderId, agentId: held.get(orderId) ?? given.get(orderId)! };
        }),
      );
    }
    return outcomes;
  }

  /**
   * The agents the orders, seen here before, hold already (a repeated reserve), locked and now held
   * under the order's newer attempt if it is newer, as long as they are reserved.
   */
  private async holdAgain(tx: Tx, orders: { orderId: string; attempt: number }[]): Promise<Map<string, number>> {
    if (orders.length === 0) return new Map();
    const rows: { id: number; order_id: string }[] = await tx.query(
      `SELECT id, order_id FROM agent FORCE INDEX (uq_agent_order) WHERE order_id IN (?) FOR UPDATE`,
      [orders.map((order) => order.orderId)],
    );
    const held = new Map(rows.map((row) => [row.order_id, Number(row.id)]));
    if (held.size > 0) {
      tx.defer(
        `UPDATE agent a
           JOIN JSON_TABLE(?, '$[*]' COLUMNS (id INT UNSIGNED PATH '$[0]', attempt INT UNSIGNED PATH '$[1]')) AS asked ON asked.id = a.id
            SET a.hold_attempt = GREATEST(COALESCE(a.hold_attempt, 0), asked.attempt)
          WHERE a.state = 'RESERVED'`,
        [JSON.stringify(orders.filter(({ orderId }) => held.has(orderId)).map(({ orderId, attempt }) => [held.get(orderId), attempt]))],
      );
    }
    return held;
  }

  /**
   * Phase 2: turns each order's reservation of `agentId` (the agent the coordinator logged at its
   * decision) into an assignment. An order is refused only once that agent is no longer reserved
   * for it (swept, or taken by another order): expiry alone does not refuse it, losing the agent
   * does, and that loss is final. The agents of the whole batch are locked first, in id order; then
   * each store's agent_count row once, in store order, so two assigns never wait on each other's
   * rows crosswise.
   */
  private async assignAll(tx: Tx, requests: AssignAgentDto[]): Promise<Outcome<AgentAssignment>[]> {
    const rows: LockedAgent[] = await tx.query(
      `SELECT id, store_id, state, order_id FROM agent FORCE INDEX (PRIMARY) WHERE id IN (?) AND order_id IN (?) FOR UPDATE`,
      [[...new Set(requests.map((request) => request.agentId))], [...new Set(requests.map((request) => request.orderId))]],
    );
    const byId = new Map(rows.map((row) => [Number(row.id), row]));
    const toAssign: LockedAgent[] = [];
    const outcomes: Outcome<AgentAssignment>[] = [];
    for (const { orderId, agentId } of requests) {
      outcomes.push(
        await outcomeOf(async () => {
          const agent = byId.get(agentId);
          if (agent?.order_id !== orderId || agent.state === HoldState.FREE) {
            throw new ContractException(ErrorCode.RESERVATION_LOST, `agent ${agentId} is no longer reserved for order ${orderId}`);
          }
          // Marked here too, so a second request of the order in this batch counts nothing again.
          if (agent.state === HoldState.RESERVED) toAssign.push(Object.assign(agent, { state: HoldState.ASSIGNED }));
          return { orderId, agentId };
        }),
      );
    }
    if (toAssign.length > 0) {
      tx.defer(`UPDATE agent SET state = 'ASSIGNED', reserved_until = NULL, hold_attempt = NULL WHERE id IN (?)`, [
        toAssign.map((agent) => agent.id),
      ]);
      for (const [storeId, n] of countByStore(toAssign)) {
        tx.defer(`UPDATE agent_count SET assigned = assigned + ? WHERE store_id = ?`, [n, storeId]);
      }
    }
    return outcomes;
  }

  /**
   * Abort: frees the agent each order holds, reserved or assigned, and bars later reserves of it.
   * The agents are locked first, so the assigned ones are uncounted exactly once, and the count rows
   * (which every assign locks after its agents) after them, once each, in store order.
   */
  private async releaseAll(tx: Tx, requests: OrderRefDto[]): Promise<Outcome<ReleaseResult>[]> {
    const orderIds = firstOfEach(requests).map((request) => request.orderId);
    closeBarriers(tx, 'agent_barrier', orderIds);
    const held: LockedAgent[] = await tx.query(
      `SELECT id, store_id, state, order_id FROM agent FORCE INDEX (uq_agent_order)
        WHERE order_id IN (?) AND state IN ('RESERVED', 'ASSIGNED') FOR UPDATE`,
      [orderIds],
    );
    if (held.length > 0) {
      tx.defer(`UPDATE agent SET state = 'FREE', order_id = NULL, reserved_until = NULL, hold_attempt = NULL WHERE id IN (?)`, [
        held.map((agent) => agent.id),
      ]);
      for (const [storeId, n] of countByStore(held.filter((agent) => agent.state === HoldState.ASSIGNED))) {
        tx.defer(`UPDATE agent_count SET assigned = assigned - ? WHERE store_id = ?`, [n, storeId]);
      }
    }
    // A second request of an order in the batch finds it released already: it frees nothing.
    const holders = new Set(held.map((agent) => agent.order_id));
    return requests.map(({ orderId }) => ({ ok: { orderId, freed: holders.delete(orderId) ? 1 : 0 } }));
  }

  /**
   * Locks, per dark store the orders ask for, in store order, up to one agent per order: free ones,
   * then ones whose reservation expired (`expired`). Answers the locked agents of each store, not
   * yet handed out. The free agents of every store are locked in one round trip, and the expired
   * ones, only for stores short of free ones, in one more.
   */
  private async lockAgents(tx: Tx, orders: { storeId: number }[]): Promise<{ free: Map<number, number[]>; expired: Set<number> }> {
    const wanted = new Map<number, number>();
    for (const { storeId } of orders) wanted.set(storeId, (wanted.get(storeId) ?? 0) + 1);
    const stores = [...wanted].sort(([a], [b]) => a - b);
    const rows: Ids[] = await tx.queryAll(
      stores.map(([storeId, count]) => [
        `SELECT id FROM agent WHERE store_id = ? AND state = 'FREE' LIMIT ? FOR UPDATE SKIP LOCKED`,
        [storeId, count],
      ]),
    );
    const short = stores.map(([storeId, count], i) => ({ storeId, missing: count - rows[i].length })).filter(({ missing }) => missing > 0);
    const expired: Ids[] = await tx.queryAll(
      short.map(({ storeId, missing }) => [
        `SELECT id FROM agent WHERE store_id = ? AND state = 'RESERVED' AND reserved_until < NOW(3) LIMIT ? FOR UPDATE SKIP LOCKED`,
        [storeId, missing],
      ]),
    );
    const free = new Map(stores.map(([storeId], i) => [storeId, rows[i].map((row) => Number(row.id))]));
    const taken = new Set<number>();
    short.forEach(({ storeId }, i) => {
      for (const row of expired[i]) {
        free.get(storeId)!.push(Number(row.id));
        taken.add(Number(row.id));
      }
    });
    return { free, expired: taken };
  }

  /** Why no agent of the store could be locked: none of it free or coming back, or all held by orders still deciding. */
  private async refusal(tx: Tx, storeId: number): Promise<ContractException> {
    const [{ mayComeBack }]: { mayComeBack: number }[] = await tx.query(
      `SELECT EXISTS (SELECT 1 FROM agent WHERE store_id = ? AND state IN ('FREE', 'RESERVED')) AS mayComeBack`,
      [storeId],
    );
    return nothingToReserve(
      'agent',
      Number(mayComeBack) === 1,
      new ContractException(ErrorCode.NO_AGENT, `No delivery agent of dark store ${storeId} is free`),
    );
  }

  onApplicationBootstrap(): void {
    this.sweeper.start();
    this.barrierPruner.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.sweeper.stop(), this.barrierPruner.stop()]);
  }
}

type LockedAgent = { id: number; store_id: number; state: HoldState; order_id: string };

/** How many of `agents` there are per store, in store order: the order agent_count rows are locked in. */
function countByStore(agents: { store_id: number }[]): [number, number][] {
  const counts = new Map<number, number>();
  for (const { store_id } of agents) counts.set(store_id, (counts.get(store_id) ?? 0) + 1);
  return [...counts].sort(([a], [b]) => a - b);
}
