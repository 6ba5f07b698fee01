import { CartLine, CartReservation, ErrorCode, HeldLine, HoldState, PacketsAssignment, ReleaseResult, Shortage } from '@app/contracts';
import { pruner, transaction } from '@app/database';
import { closeBarrier, enterBarrier, expirySweeper, refusePastRetention, tookExpired } from '@app/participant';
import { ContractException, PeriodicTask } from '@app/platform';
import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { ResultSetHeader } from 'mysql2';
import { DataSource, EntityManager } from 'typeorm';
import { StoreEnv } from '../config/store.env';
import { storeNotFound } from '../stores/stores.service';

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
   * Phase 1: holds every packet of the cart, of the order's dark store, for the order until the
   * reservation expires: all of them in one transaction, or none. Per line, free packets first, else
   * ones whose reservation expired; packets other reserves are locking are skipped, never waited
   * for, so two carts never wait on each other whatever order they list their foods in. A repeated
   * reserve answers with what the first one took. An order older than RETENTION_MS, whose barrier
   * row may be pruned, is refused (ORDER_TOO_OLD).
   */
  reserveCart(orderId: string, storeId: number, items: CartLine[]): Promise<CartReservation> {
    return transaction(this.dataSource, async (manager) => {
      const barrier = await enterBarrier(manager, 'packet_barrier', orderId);
      refusePastRetention(orderId, this.env.RETENTION_MS);
      if (barrier.released) throw new ContractException(ErrorCode.ORDER_RELEASED, `Order ${orderId} was already released; not reserving`);
      if (!barrier.firstVisit) {
        const held: { id: number | string; food_id: number }[] = await manager.query(`SELECT id, food_id FROM packet WHERE order_id = ?`, [
          orderId,
        ]);
        if (held.length > 0) return { orderId, items: heldLines(items, held) };
      }
      // Foods in one order for every cart (the lock requests of two carts never cross), every line
      // tried even after one came up short, so that a refusal can name every food short.
      const lines: HeldLine[] = [];
      for (const line of [...items].sort((a, b) => a.foodId - b.foodId))
        lines.push({ ...line, packetIds: await this.lock(manager, storeId, line) });
      const short = lines.filter((line) => line.packetIds.length < line.quantity);
      if (short.length > 0) throw await this.refusal(manager, storeId, items, short);
      await manager.query(
        `UPDATE packet SET state = 'RESERVED', order_id = ?, reserved_until = NOW(3) + INTERVAL ? MICROSECOND WHERE id IN (?)`,
        [orderId, this.env.RESERVATION_TTL_MS * 1000, lines.flatMap((line) => line.packetIds)],
      );
      return { orderId, items: items.map((line) => lines.find((held) => held.foodId === line.foodId)!) };
    });
  }

  /**
   * Phase 2: turns the order's reservations of `packetIds` (the packets the coordinator logged at
   * its decision) into assignments, all or none. Refused once any of them is no longer the order's
   * (swept and taken by another order): expiry alone does not refuse it, losing a packet does, and
   * that loss is final. The packets are locked first; then each food's count row of the store, in
   * food order, so two assigns never wait on each other's count rows crosswise.
   */
  assign(orderId: string, packetIds: number[]): Promise<PacketsAssignment> {
    return transaction(this.dataSource, async (manager) => {
      const rows: { id: number | string; store_id: number; food_id: number; state: HoldState }[] = await manager.query(
        `SELECT id, store_id, food_id, state FROM packet WHERE id IN (?) AND order_id = ? FOR UPDATE`,
        [packetIds, orderId],
      );
      if (rows.length < packetIds.length || rows.some((row) => row.state === HoldState.FREE)) {
        throw new ContractException(ErrorCode.RESERVATION_LOST, `packets of order ${orderId} are no longer reserved for it`);
      }
      const reserved = rows.filter((row) => row.state === HoldState.RESERVED);
      if (reserved.length > 0) {
        await manager.query(`UPDATE packet SET state = 'ASSIGNED', reserved_until = NULL WHERE id IN (?)`, [reserved.map((row) => row.id)]);
        for (const [[store, food], n] of countByFood(reserved)) {
          await manager.query(`UPDATE packet_count SET assigned = assigned + ? WHERE store_id = ? AND food_id = ?`, [n, store, food]);
        }
      }
      return { orderId, packetIds };
    });
  }

  /**
   * Abort: frees whatever the order holds, reserved or assigned, and bars later reserves of it. The
   * packets are locked first, so the assigned ones are uncounted exactly once, and the count rows
   * (which every assign locks after its packets) are locked after them, in food order.
   */
  release(orderId: string): Promise<ReleaseResult> {
    return transaction(this.dataSource, async (manager) => {
      await closeBarrier(manager, 'packet_barrier', orderId);
      const held: { store_id: number; food_id: number; state: HoldState }[] = await manager.query(
        `SELECT store_id, food_id, state FROM packet WHERE order_id = ? AND state IN ('RESERVED', 'ASSIGNED') FOR UPDATE`,
        [orderId],
      );
      if (held.length === 0) return { orderId, freed: 0 };
      await manager.query(`UPDATE packet SET state = 'FREE', order_id = NULL, reserved_until = NULL WHERE order_id = ?`, [orderId]);
      for (const [[store, food], n] of countByFood(held.filter((packet) => packet.state === HoldState.ASSIGNED))) {
        await manager.query(`UPDATE packet_count SET assigned = assigned - ? WHERE store_id = ? AND food_id = ?`, [n, store, food]);
      }
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

  /** Locks up to `line.quantity` packets of the line's food in the store: free ones, then expired reservations. */
  private async lock(manager: EntityManager, storeId: number, line: CartLine): Promise<number[]> {
    const free: Ids = await manager.query(
      `SELECT id FROM packet WHERE store_id = ? AND food_id = ? AND state = 'FREE' LIMIT ? FOR UPDATE SKIP LOCKED`,
      [storeId, line.foodId, line.quantity],
    );
    const expired: Ids =
      free.length < line.quantity
        ? await manager.query(
            `SELECT id FROM packet WHERE store_id = ? AND food_id = ? AND state = 'RESERVED' AND reserved_until < NOW(3)
              LIMIT ? FOR UPDATE SKIP LOCKED`,
            [storeId, line.foodId, line.quantity - free.length],
          )
        : [];
    if (expired.length > 0) tookExpired('packet', expired.length);
    return [...free, ...expired].map((row) => Number(row.id));
  }

  /**
   * Why the cart could not be held: an unknown store or food; or, per food, fewer packets in the
   * store free or on their way back (reserved by orders still deciding: total - assigned) than the
   * cart needs: OUT_OF_STOCK, naming each such food and how many were missing. Otherwise every
   * packet missing now is held by orders still deciding, and the answer is "ask again"
   * (ALL_RESERVED, naming what is missing now), not a refusal (I7).
   */
  private async refusal(manager: EntityManager, storeId: number, items: CartLine[], short: HeldLine[]): Promise<ContractException> {
    const [store]: unknown[] = await manager.query(`SELECT id FROM dark_store WHERE id = ?`, [storeId]);
    if (!store) return storeNotFound(storeId);
    const rows: { id: number; available: number | string | null }[] = await manager.query(
      `SELECT f.id, c.total - c.assigned AS available
         FROM food f LEFT JOIN packet_count c ON c.store_id = ? AND c.food_id = f.id
        WHERE f.id IN (?)`,
      [storeId, items.map((line) => line.foodId)],
    );
    const available = new Map(rows.map((row) => [Number(row.id), Number(row.available ?? 0)]));
    const unknown = items.find((line) => !available.has(line.foodId));
    if (unknown) return new ContractException(ErrorCode.UNKNOWN_FOOD, `Food ${unknown.foodId} does not exist`);
    const outOfStock = items
      .map((line) => ({ foodId: line.foodId, missing: line.quantity - available.get(line.foodId)! }))
      .filter((shortage) => shortage.missing > 0);
    if (outOfStock.length > 0) {
      return new ContractException(ErrorCode.OUT_OF_STOCK, `Dark store ${storeId} is out of ${describe(outOfStock)}`, outOfStock);
    }
    const held = short.map((line) => ({ foodId: line.foodId, missing: line.quantity - line.packetIds.length }));
    return new ContractException(ErrorCode.ALL_RESERVED, `Orders still deciding hold the packets missing now: ${describe(held)}`, held);
  }

  onApplicationBootstrap(): void {
    this.sweeper.start();
    this.barrierPruner.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.sweeper.stop(), this.barrierPruner.stop()]);
  }
}

/** The packets an order holds, as the lines of its cart (a repeated reserve answers what the first took). */
function heldLines(items: CartLine[], held: { id: number | string; food_id: number }[]): HeldLine[] {
  return items.map((line) => ({ ...line, packetIds: held.filter((row) => row.food_id === line.foodId).map((row) => Number(row.id)) }));
}

/** How many of `rows` there are per (store, food), in store and food order: the order count rows are locked in. */
function countByFood(rows: { store_id: number; food_id: number }[]): [[number, number], number][] {
  const counts = new Map<string, [[number, number], number]>();
  for (const { store_id, food_id } of rows) {
    const key = `${store_id}:${food_id}`;
    const entry = counts.get(key) ?? [[store_id, food_id], 0];
    entry[1]++;
    counts.set(key, entry);
  }
  return [...counts.values()].sort(([[s1, f1]], [[s2, f2]]) => s1 - s2 || f1 - f2);
}

function describe(shortages: Shortage[]): string {
  return shortages.map((s) => `food ${s.foodId} (${s.missing} missing)`).join(', ');
}
