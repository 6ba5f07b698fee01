import { AgentAssignment, AgentReservation, AgentsCreated, ErrorCode, ReleaseResult, StoreAgents } from '@app/contracts';
import { insertRows, isDuplicateKey, once, pruner, transaction, withRetries } from '@app/database';
import { closeBarrier, enterBarrier, expirySweeper, nothingToReserve, refusePastRetention, tookExpired } from '@app/participant';
import { ContractException, PeriodicTask } from '@app/platform';
import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { ResultSetHeader } from 'mysql2';
import { DataSource, EntityManager } from 'typeorm';
import { DeliveryEnv } from '../config/delivery.env';

type Ids = { id: number | string }[];

/**
 * The delivery side of the two-phase commit: agents held, assigned and given back per order. Every
 * method is keyed by order id and safe to repeat. Transactions run under READ COMMITTED (see
 * transaction()): SKIP LOCKED under REPEATABLE READ takes gap locks that deadlock concurrent reserves.
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

  /**
   * Phase 1: holds one agent of the order's dark store for the order until the reservation expires,
   * under the order's reserve `attempt`. A free agent first, else one whose reservation expired; agents other reserves are
   * locking are skipped, never waited for. An order holds at most one agent (order_id is unique): a
   * repeated or later reserve answers with the agent it holds, now held under the newer attempt.
   * An order older than RETENTION_MS, whose barrier row may be pruned, is refused (ORDER_TOO_OLD).
   */
  reserve(orderId: string, storeId: number, attempt: number): Promise<AgentReservation> {
    return transaction(this.dataSource, async (manager) => {
      const barrier = await enterBarrier(manager, 'agent_barrier', orderId);
      refusePastRetention(orderId, this.env.RETENTION_MS);
      if (barrier.released) throw new ContractException(ErrorCode.ORDER_RELEASED, `Order ${orderId} was already released; not reserving`);
      if (!barrier.firstVisit) {
        const [held]: Ids = await manager.query(`SELECT id FROM agent WHERE order_id = ? FOR UPDATE`, [orderId]);
        if (held) {
          await manager.query(
            `UPDATE agent SET hold_attempt = GREATEST(COALESCE(hold_attempt, 0), ?) WHERE id = ? AND state = 'RESERVED'`,
            [attempt, held.id],
          );
          return { orderId, agentId: Number(held.id) };
        }
      }
      const agentId = (await this.lockFree(manager, storeId)) ?? (await this.lockExpired(manager, storeId));
      if (agentId === undefined) throw await this.refusal(manager, storeId);
      await manager.query(
        `UPDATE agent SET state = 'RESERVED', order_id = ?, reserved_until = NOW(3) + INTERVAL ? MICROSECOND, hold_attempt = ?
          WHERE id = ?`,
        [orderId, this.env.RESERVATION_TTL_MS * 1000, attempt, agentId],
      );
      return { orderId, agentId };
    });
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

  /**
   * Phase 2: turns the order's reservation of `agentId` (the agent the coordinator logged at its
   * decision) into an assignment. Refused only once that agent is no longer reserved for the order
   * (swept, or taken by another order): expiry alone does not refuse it, losing the agent does, and
   * that loss is final. Autocommit statements, not a transaction: the update alone decides, and
   * counts the agent assigned in its store's agent_count row in the same statement.
   */
  assign(orderId: string, agentId: number): Promise<AgentAssignment> {
    return withRetries(async () => {
      const result: ResultSetHeader = await this.dataSource.query(
        `UPDATE agent a JOIN agent_count c ON c.store_id = a.store_id
            SET a.state = 'ASSIGNED', a.reserved_until = NULL, a.hold_attempt = NULL, c.assigned = c.assigned + 1
          WHERE a.id = ? AND a.order_id = ? AND a.state = 'RESERVED'`,
        [agentId, orderId],
      );
      if (result.affectedRows > 0) return { orderId, agentId };
      const [assigned]: Ids = await this.dataSource.query(`SELECT id FROM agent WHERE id = ? AND order_id = ? AND state = 'ASSIGNED'`, [
        agentId,
        orderId,
      ]);
      if (assigned) return { orderId, agentId };
      throw new ContractException(ErrorCode.RESERVATION_LOST, `agent ${agentId} is no longer reserved for order ${orderId}`);
    });
  }

  /** Abort: frees the agent the order holds, reserved or assigned, and bars later reserves of it. */
  release(orderId: string): Promise<ReleaseResult> {
    return transaction(this.dataSource, async (manager) => {
      await closeBarrier(manager, 'agent_barrier', orderId);
      const reserved: ResultSetHeader = await manager.query(
        `UPDATE agent SET state = 'FREE', order_id = NULL, reserved_until = NULL, hold_attempt = NULL
          WHERE order_id = ? AND state = 'RESERVED'`,
        [orderId],
      );
      return { orderId, freed: reserved.affectedRows + (await this.freeAssigned(manager, orderId)) };
    });
  }

  /** The order was delivered: frees its agent and bars later reserves of the order. */
  complete(orderId: string): Promise<ReleaseResult> {
    return transaction(this.dataSource, async (manager) => {
      await closeBarrier(manager, 'agent_barrier', orderId);
      return { orderId, freed: await this.freeAssigned(manager, orderId) };
    });
  }

  /** Frees up to `batch` reservations past their expiry; READ COMMITTED, like reserve, so it gap-locks nothing. */
  async sweepExpired(batch: number): Promise<number> {
    const result = await transaction(this.dataSource, (manager): Promise<ResultSetHeader> =>
      manager.query(
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
    const result = await transaction(this.dataSource, (manager): Promise<ResultSetHeader> =>
      manager.query(`DELETE FROM agent_barrier WHERE order_id < ? ORDER BY order_id LIMIT ?`, [floor, batch]),
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
  private async counts(manager: EntityManager, storeId?: number): Promise<StoreAgents[]> {
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
  private async freeAssigned(manager: EntityManager, orderId: string): Promise<number> {
    const result: ResultSetHeader = await manager.query(
      `UPDATE agent a JOIN agent_count c ON c.store_id = a.store_id
          SET a.state = 'FREE', a.order_id = NULL, a.hold_attempt = NULL, c.assigned = c.assigned - 1
        WHERE a.order_id = ? AND a.state = 'ASSIGNED'`,
      [orderId],
    );
    return result.affectedRows > 0 ? 1 : 0;
  }

  private async lockFree(manager: EntityManager, storeId: number): Promise<number | undefined> {
    const [row]: Ids = await manager.query(`SELECT id FROM agent WHERE store_id = ? AND state = 'FREE' LIMIT 1 FOR UPDATE SKIP LOCKED`, [
      storeId,
    ]);
    return row && Number(row.id);
  }

  private async lockExpired(manager: EntityManager, storeId: number): Promise<number | undefined> {
    const [row]: Ids = await manager.query(
      `SELECT id FROM agent WHERE store_id = ? AND state = 'RESERVED' AND reserved_until < NOW(3) LIMIT 1 FOR UPDATE SKIP LOCKED`,
      [storeId],
    );
    if (row) tookExpired('agent');
    return row && Number(row.id);
  }

  /** Why no agent of the store could be locked: none of it free or coming back, or all held by orders still deciding. */
  private async refusal(manager: EntityManager, storeId: number): Promise<ContractException> {
    const [{ mayComeBack }]: { mayComeBack: number }[] = await manager.query(
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
