import { ErrorCode, HoldState, PacketAssignment, PacketReservation, ReleaseResult } from '@app/contracts';
import { pruner, transaction, withRetries } from '@app/database';
import { closeBarrier, enterBarrier, expirySweeper, nothingToReserve, refusePastRetention, tookExpired } from '@app/participant';
import { ContractException, PeriodicTask } from '@app/platform';
import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { ResultSetHeader } from 'mysql2';
import { DataSource, EntityManager } from 'typeorm';
import { StoreEnv } from '../config/store.env';

type Ids = { id: number | string }[];

/**
 * The store's side of the two-phase commit: packets held, assigned and given back per order. Every
 * method is keyed by order id and safe to repeat. Transactions run under READ COMMITTED (see
 * transaction()): SKIP LOCKED under REPEATABLE READ takes gap locks that deadlock concurrent reserves.
 */
@Injectable()
export class PacketsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly sweeper: PeriodicTask;
  private readonly barrierPruner: PeriodicTask;

  constructor(
    private readonly dataSource: DataSource,
    private readonly env: StoreEnv,
  ) {
    this.sweeper = expirySweeper('packet', env.SWEEP_INTERVAL_MS, (batch) => this.sweepExpired(batch));
    this.barrierPruner = pruner('packet_barrier', env, (floor, batch) => this.pruneBarrier(floor, batch));
  }

  /**
   * Phase 1: holds one packet of the food for the order until the reservation expires. A free
   * packet first, else one whose reservation expired; packets other reserves are locking are
   * skipped, never waited for. A repeated reserve answers with the packet the first one took. An
   * order older than RETENTION_MS, whose barrier row may be pruned, is refused (ORDER_TOO_OLD).
   */
  reserve(orderId: string, foodId: number): Promise<PacketReservation> {
    return transaction(this.dataSource, async (manager) => {
      const barrier = await enterBarrier(manager, 'packet_barrier', orderId);
      refusePastRetention(orderId, this.env.RETENTION_MS);
      if (barrier.released) throw new ContractException(ErrorCode.ORDER_RELEASED, `Order ${orderId} was already released; not reserving`);
      if (!barrier.firstVisit) {
        const [held]: Ids = await manager.query(`SELECT id FROM packet WHERE order_id = ?`, [orderId]);
        if (held) return { orderId, packetId: Number(held.id) };
      }
      const packetId = (await this.lockFree(manager, foodId)) ?? (await this.lockExpired(manager, foodId));
      if (packetId === undefined) throw await this.refusal(manager, foodId);
      await manager.query(
        `UPDATE packet SET state = 'RESERVED', order_id = ?, reserved_until = NOW(3) + INTERVAL ? MICROSECOND WHERE id = ?`,
        [orderId, this.env.RESERVATION_TTL_MS * 1000, packetId],
      );
      return { orderId, packetId };
    });
  }

  /**
   * Phase 2: turns the order's reservation of `packetId` (the packet the coordinator logged at its
   * decision) into an assignment. Refused only once that packet is no longer reserved for the order
   * (swept, or taken by another order): expiry alone does not refuse it, losing the packet does, and
   * that loss is final. Autocommit statements, not a transaction: the update alone decides, and
   * counts the packet assigned in its food's packet_count row in the same statement.
   */
  assign(orderId: string, packetId: number): Promise<PacketAssignment> {
    return withRetries(async () => {
      const result: ResultSetHeader = await this.dataSource.query(
        `UPDATE packet p JOIN packet_count c ON c.food_id = p.food_id
            SET p.state = 'ASSIGNED', p.reserved_until = NULL, c.assigned = c.assigned + 1
          WHERE p.id = ? AND p.order_id = ? AND p.state = 'RESERVED'`,
        [packetId, orderId],
      );
      if (result.affectedRows > 0) return { orderId, packetId };
      const [assigned]: Ids = await this.dataSource.query(`SELECT id FROM packet WHERE id = ? AND order_id = ? AND state = 'ASSIGNED'`, [
        packetId,
        orderId,
      ]);
      if (assigned) return { orderId, packetId };
      throw new ContractException(ErrorCode.RESERVATION_LOST, `packet ${packetId} is no longer reserved for order ${orderId}`);
    });
  }

  /**
   * Abort: frees whatever the order holds, reserved or assigned, and bars later reserves of it. The
   * packets are locked first, so the assigned ones are uncounted exactly once, and the count rows
   * (which every assign locks after its packet) are locked after them, in food order.
   */
  release(orderId: string): Promise<ReleaseResult> {
    return transaction(this.dataSource, async (manager) => {
      await closeBarrier(manager, 'packet_barrier', orderId);
      const held: { food_id: number; state: HoldState }[] = await manager.query(
        `SELECT food_id, state FROM packet WHERE order_id = ? AND state IN ('RESERVED', 'ASSIGNED') FOR UPDATE`,
        [orderId],
      );
      if (held.length === 0) return { orderId, freed: 0 };
      await manager.query(`UPDATE packet SET state = 'FREE', order_id = NULL, reserved_until = NULL WHERE order_id = ?`, [orderId]);
      const assignedByFood = new Map<number, number>();
      for (const { food_id } of held.filter((packet) => packet.state === HoldState.ASSIGNED))
        assignedByFood.set(food_id, (assignedByFood.get(food_id) ?? 0) + 1);
      for (const [foodId, assigned] of [...assignedByFood].sort(([a], [b]) => a - b))
        await manager.query(`UPDATE packet_count SET assigned = assigned - ? WHERE food_id = ?`, [assigned, foodId]);
      return { orderId, freed: held.length };
    });
  }

  /** Frees up to `batch` reservations past their expiry; READ COMMITTED, like reserve, so it gap-locks nothing. */
  async sweepExpired(batch: number): Promise<number> {
    const result = await transaction(this.dataSource, (manager): Promise<ResultSetHeader> =>
      manager.query(
        `UPDATE packet SET state = 'FREE', order_id = NULL, reserved_until = NULL
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
      manager.query(`DELETE FROM packet_barrier WHERE order_id < ? ORDER BY order_id LIMIT ?`, [floor, batch]),
    );
    return result.affectedRows;
  }

  private async lockFree(manager: EntityManager, foodId: number): Promise<number | undefined> {
    const [row]: Ids = await manager.query(`SELECT id FROM packet WHERE food_id = ? AND state = 'FREE' LIMIT 1 FOR UPDATE SKIP LOCKED`, [
      foodId,
    ]);
    return row && Number(row.id);
  }

  private async lockExpired(manager: EntityManager, foodId: number): Promise<number | undefined> {
    const [row]: Ids = await manager.query(
      `SELECT id FROM packet WHERE food_id = ? AND state = 'RESERVED' AND reserved_until < NOW(3) LIMIT 1 FOR UPDATE SKIP LOCKED`,
      [foodId],
    );
    if (row) tookExpired('packet');
    return row && Number(row.id);
  }

  /** Why no packet of the food could be locked: an unknown food, none left at all, or all held by orders still deciding. */
  private async refusal(manager: EntityManager, foodId: number): Promise<ContractException> {
    const [{ known, mayComeBack }]: { known: number; mayComeBack: number }[] = await manager.query(
      `SELECT EXISTS (SELECT 1 FROM food WHERE id = ?) AS known,
              EXISTS (SELECT 1 FROM packet WHERE food_id = ? AND state IN ('FREE', 'RESERVED')) AS mayComeBack`,
      [foodId, foodId],
    );
    if (!Number(known)) return new ContractException(ErrorCode.UNKNOWN_FOOD, `Food ${foodId} does not exist`);
    return nothingToReserve(
      'packet',
      Number(mayComeBack) === 1,
      new ContractException(ErrorCode.OUT_OF_STOCK, `Food ${foodId} is out of stock`),
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
