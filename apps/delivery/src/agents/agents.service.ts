import {
  AgentAssignment,
  AgentReservation,
  AgentsCreated,
  AgentsView,
  ErrorCode,
  HoldState,
  ReleaseResult,
  tallyHoldCounts,
} from '@app/contracts';
import { insertRows, isDuplicateKey, transaction, withRetries } from '@app/database';
import { closeBarrier, enterBarrier, expirySweeper, nothingToReserve, tookExpired } from '@app/participant';
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

  constructor(
    private readonly dataSource: DataSource,
    private readonly env: DeliveryEnv,
  ) {
    this.sweeper = expirySweeper('agent', env.SWEEP_INTERVAL_MS, (batch) => this.sweepExpired(batch));
  }

  /**
   * Phase 1: holds one agent for the order until the reservation expires, under the order's reserve
   * `attempt`. A free agent first, else one whose reservation expired; agents other reserves are
   * locking are skipped, never waited for. An order holds at most one agent (order_id is unique): a
   * repeated or later reserve answers with the agent it holds, now held under the newer attempt.
   */
  reserve(orderId: string, attempt: number): Promise<AgentReservation> {
    return transaction(this.dataSource, async (manager) => {
      const barrier = await enterBarrier(manager, 'agent_barrier', orderId);
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
      const agentId = (await this.lockFree(manager)) ?? (await this.lockExpired(manager));
      if (agentId === undefined) throw await this.refusal(manager);
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
   * that loss is final. Autocommit statements, not a transaction: the update alone decides.
   */
  assign(orderId: string, agentId: number): Promise<AgentAssignment> {
    return withRetries(async () => {
      const result: ResultSetHeader = await this.dataSource.query(
        `UPDATE agent SET state = 'ASSIGNED', reserved_until = NULL, hold_attempt = NULL WHERE id = ? AND order_id = ? AND state = 'RESERVED'`,
        [agentId, orderId],
      );
      if (result.affectedRows === 1) return { orderId, agentId };
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
    return this.freeAndClose(orderId, [HoldState.RESERVED, HoldState.ASSIGNED]);
  }

  /** The order was delivered: frees its agent and bars later reserves of the order. */
  complete(orderId: string): Promise<ReleaseResult> {
    return this.freeAndClose(orderId, [HoldState.ASSIGNED]);
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

  async create(count: number | undefined, names: string[] | undefined): Promise<AgentsCreated> {
    const rows = names ?? new Array<null>(count ?? 0).fill(null);
    try {
      await this.dataSource.transaction((manager) => insertRows(manager, 'agent', 'name', rows));
    } catch (err) {
      if (isDuplicateKey(err)) throw new ContractException(ErrorCode.AGENT_EXISTS, 'An agent with one of these names already exists');
      throw err;
    }
    return { created: rows.length, ...(await this.view()) };
  }

  async view(): Promise<AgentsView> {
    const rows: { state: HoldState; n: string }[] = await this.dataSource.query(`SELECT state, COUNT(*) AS n FROM agent GROUP BY state`);
    return { agents: tallyHoldCounts(rows) };
  }

  private freeAndClose(orderId: string, from: HoldState[]): Promise<ReleaseResult> {
    return transaction(this.dataSource, async (manager) => {
      await closeBarrier(manager, 'agent_barrier', orderId);
      const result: ResultSetHeader = await manager.query(
        `UPDATE agent SET state = 'FREE', order_id = NULL, reserved_until = NULL, hold_attempt = NULL WHERE order_id = ? AND state IN (?)`,
        [orderId, from],
      );
      return { orderId, freed: result.affectedRows };
    });
  }

  private async lockFree(manager: EntityManager): Promise<number | undefined> {
    const [row]: Ids = await manager.query(`SELECT id FROM agent WHERE state = 'FREE' LIMIT 1 FOR UPDATE SKIP LOCKED`);
    return row && Number(row.id);
  }

  private async lockExpired(manager: EntityManager): Promise<number | undefined> {
    const [row]: Ids = await manager.query(
      `SELECT id FROM agent WHERE state = 'RESERVED' AND reserved_until < NOW(3) LIMIT 1 FOR UPDATE SKIP LOCKED`,
    );
    if (row) tookExpired('agent');
    return row && Number(row.id);
  }

  /** Why no agent could be locked: none at all free or coming back, or all held by orders still deciding. */
  private async refusal(manager: EntityManager): Promise<ContractException> {
    const [{ mayComeBack }]: { mayComeBack: number }[] = await manager.query(
      `SELECT EXISTS (SELECT 1 FROM agent WHERE state IN ('FREE', 'RESERVED')) AS mayComeBack`,
    );
    return nothingToReserve('agent', Number(mayComeBack) === 1, new ContractException(ErrorCode.NO_AGENT, 'No delivery agent is free'));
  }

  onApplicationBootstrap(): void {
    this.sweeper.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.sweeper.stop();
  }
}
