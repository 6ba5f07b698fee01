import {
  AssignPacketsDto,
  CartLine,
  CartReservation,
  ErrorCode,
  HeldLine,
  HoldState,
  OrderRefDto,
  Outcome,
  PacketsAssignment,
  ReleaseResult,
  ReserveCartDto,
  Shortage,
  StorePattern,
} from '@app/contracts';
import { pruner, transaction, Tx } from '@app/database';
import {
  barrierRefusals,
  closeBarriers,
  commitBatch,
  commitOne,
  enterBarriers,
  expirySweeper,
  firstOfEach,
  leaveBarriers,
  tookExpired,
} from '@app/participant';
import { ContractException, outcomeOf, PeriodicTask } from '@app/platform';
import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { ResultSetHeader } from 'mysql2';
import { DataSource } from 'typeorm';
import { StoreEnv } from '../config/store.env';
import { storeNotFound } from '../stores/stores.service';

type Ids = { id: number | string }[];

/**
 * The store's side of the two-phase commit: packets held, assigned and given back per order. Every
 * method is keyed by order id and safe to repeat. Transactions run under READ COMMITTED (see
 * transaction()): SKIP LOCKED under REPEATABLE READ takes gap locks that deadlock concurrent reserves.
 * A batch locks its packets by id or by order id through the index named (FORCE INDEX): for an IN list
 * on a small table the optimizer would rather scan the whole table, waiting on rows of orders not
 * its own, and two batches scanning so deadlock.
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

  /** Phase 1 for a batch of carts, in one transaction: see reserveAll. */
  reserveCarts(requests: ReserveCartDto[]): Promise<Outcome<CartReservation>[]> {
    return commitBatch(this.dataSource, StorePattern.RESERVE_CARTS, requests, (tx, batch) => this.reserveAll(tx, batch));
  }

  reserveCart(orderId: string, storeId: number, items: CartLine[]): Promise<CartReservation> {
    return commitOne(this.dataSource, { orderId, storeId, items }, (tx, batch) => this.reserveAll(tx, batch));
  }

  /** Phase 2 for a batch of orders, in one transaction: see assignAll. */
  assignBatch(requests: AssignPacketsDto[]): Promise<Outcome<PacketsAssignment>[]> {
    return commitBatch(this.dataSource, StorePattern.ASSIGN_PACKETS_BATCH, requests, (tx, batch) => this.assignAll(tx, batch));
  }

  assign(orderId: string, packetIds: number[]): Promise<PacketsAssignment> {
    return commitOne(this.dataSource, { orderId, packetIds }, (tx, batch) => this.assignAll(tx, batch));
  }

  /** Abort for a batch of orders, in one transaction: see releaseAll. */
  releaseBatch(requests: OrderRefDto[]): Promise<Outcome<ReleaseResult>[]> {
    return commitBatch(this.dataSource, StorePattern.RELEASE_PACKETS_BATCH, requests, (tx, batch) => this.releaseAll(tx, batch));
  }

  release(orderId: string): Promise<ReleaseResult> {
    return commitOne(this.dataSource, { orderId }, (tx, batch) => this.releaseAll(tx, batch));
  }

  /** Frees up to `batch` reservations past their expiry; READ COMMITTED, like reserve, so it gap-locks nothing. */
  async sweepExpired(batch: number): Promise<number> {
    const result = await transaction(this.dataSource, (tx): Promise<ResultSetHeader> =>
      tx.query(
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
    const result = await transaction(this.dataSource, (tx): Promise<ResultSetHeader> =>
      tx.query(`DELETE FROM packet_barrier WHERE order_id < ? ORDER BY order_id LIMIT ?`, [floor, batch]),
    );
    return result.affectedRows;
  }

  /**
   * Phase 1: holds every packet of each cart, of the order's dark store, for the order until the
   * reservation expires: all of a cart's packets, or none. Free packets first, else ones whose
   * reservation expired; packets other reserves are locking are skipped, never waited for, so two
   * batches never wait on each other whatever foods they ask for. The packets the batch locked are
   * handed out in request order; a cart that cannot have every line gets none, and what was locked
   * for it goes to later carts or stays free. A repeated reserve answers with what the first one
   * took (a second request of an order in the same batch too). An order older than RETENTION_MS,
   * whose barrier row may be pruned, is refused (ORDER_TOO_OLD); each refusal is the order's own and
   * writes nothing.
   */
  private async reserveAll(tx: Tx, requests: ReserveCartDto[]): Promise<Outcome<CartReservation>[]> {
    const barriers = await enterBarriers(
      tx,
      'packet_barrier',
      requests.map((request) => request.orderId),
    );
    const carts = firstOfEach(requests);
    const refusals = barrierRefusals(barriers, this.env.RETENTION_MS);
    const held = await this.heldBefore(
      tx,
      carts.filter(({ orderId }) => !barriers.get(orderId)!.firstVisit && !refusals.has(orderId)).map((cart) => cart.orderId),
    );
    const toTake = carts.filter(({ orderId }) => !refusals.has(orderId) && !held.has(orderId));
    const { stock, expired } = await this.lockStock(tx, toTake);
    const { given, short } = handOut(toTake, stock);
    const packets = [...given].flatMap(([orderId, rows]) => rows.map((row): [number, string] => [row.id, orderId]));
    if (packets.length > 0) {
      tx.defer(
        `UPDATE packet p JOIN JSON_TABLE(?, '$[*]' COLUMNS (id BIGINT UNSIGNED PATH '$[0]', order_id CHAR(36) PATH '$[1]')) AS given
             ON given.id = p.id
            SET p.state = 'RESERVED', p.order_id = given.order_id, p.reserved_until = NOW(3) + INTERVAL ? MICROSECOND`,
        [JSON.stringify(packets), this.env.RESERVATION_TTL_MS * 1000],
      );
      const takenOver = packets.filter(([id]) => expired.has(id)).length;
      if (takenOver > 0) tookExpired('packet', takenOver);
    }
    for (const [orderId, refusal] of await this.refusals(tx, short)) refusals.set(orderId, refusal);
    leaveBarriers(tx, 'packet_barrier', [...refusals.keys()]);

    const outcomes: Outcome<CartReservation>[] = [];
    for (const { orderId, items } of requests) {
      outcomes.push(
        await outcomeOf(async () => {
          const refusal = refusals.get(orderId);
          if (refusal) throw refusal;
          return { orderId, items: heldLines(items, held.get(orderId) ?? given.get(orderId)!) };
        }),
      );
    }
    return outcomes;
  }

  /**
   * Phase 2: turns each order's reservations of `packetIds` (the packets the coordinator logged at
   * its decision) into assignments, all or none per order. An order is refused once any of them is
   * no longer its own (swept and taken by another order): expiry alone does not refuse it, losing a
   * packet does, and that loss is final. The packets of the whole batch are locked first, in id
   * order; then each (store, food) count row once, in store and food order, so two assigns never
   * wait on each other's rows crosswise.
   */
  private async assignAll(tx: Tx, requests: AssignPacketsDto[]): Promise<Outcome<PacketsAssignment>[]> {
    const rows: LockedPacket[] = await tx.query(
      `SELECT id, store_id, food_id, state, order_id FROM packet FORCE INDEX (PRIMARY) WHERE id IN (?) AND order_id IN (?) FOR UPDATE`,
      [[...new Set(requests.flatMap((request) => request.packetIds))], [...new Set(requests.map((request) => request.orderId))]],
    );
    const byId = new Map(rows.map((row) => [Number(row.id), row]));
    const toAssign: LockedPacket[] = [];
    const outcomes: Outcome<PacketsAssignment>[] = [];
    for (const { orderId, packetIds } of requests) {
      outcomes.push(
        await outcomeOf(async () => {
          const own = [...new Set(packetIds)].map((id) => byId.get(id)).filter((row) => row?.order_id === orderId) as LockedPacket[];
          if (own.length < packetIds.length || own.some((row) => row.state === HoldState.FREE)) {
            throw new ContractException(ErrorCode.RESERVATION_LOST, `packets of order ${orderId} are no longer reserved for it`);
          }
          // Marked here too, so a second request of the order in this batch counts nothing again.
          for (const row of own.filter((packet) => packet.state === HoldState.RESERVED))
            toAssign.push(Object.assign(row, { state: HoldState.ASSIGNED }));
          return { orderId, packetIds };
        }),
      );
    }
    if (toAssign.length > 0) {
      tx.defer(`UPDATE packet SET state = 'ASSIGNED', reserved_until = NULL WHERE id IN (?)`, [toAssign.map((row) => row.id)]);
      for (const [[store, food], n] of countByFood(toAssign)) {
        tx.defer(`UPDATE packet_count SET assigned = assigned + ? WHERE store_id = ? AND food_id = ?`, [n, store, food]);
      }
    }
    return outcomes;
  }

  /**
   * Abort: frees whatever each order holds, reserved or assigned, and bars later reserves of it. The
   * packets are locked first, so the assigned ones are uncounted exactly once, and the count rows
   * (which every assign locks after its packets) are locked after them, once each, in store and
   * food order.
   */
  private async releaseAll(tx: Tx, requests: OrderRefDto[]): Promise<Outcome<ReleaseResult>[]> {
    const orderIds = firstOfEach(requests).map((request) => request.orderId);
    closeBarriers(tx, 'packet_barrier', orderIds);
    const held: LockedPacket[] = await tx.query(
      `SELECT id, store_id, food_id, state, order_id FROM packet FORCE INDEX (idx_packet_order)
        WHERE order_id IN (?) AND state IN ('RESERVED', 'ASSIGNED') FOR UPDATE`,
      [orderIds],
    );
    if (held.length > 0) {
      tx.defer(`UPDATE packet SET state = 'FREE', order_id = NULL, reserved_until = NULL WHERE id IN (?)`, [held.map((row) => row.id)]);
      for (const [[store, food], n] of countByFood(held.filter((packet) => packet.state === HoldState.ASSIGNED))) {
        tx.defer(`UPDATE packet_count SET assigned = assigned - ? WHERE store_id = ? AND food_id = ?`, [n, store, food]);
      }
    }
    // A second request of an order in the batch finds it released already: it frees nothing.
    const freed = new Map(orderIds.map((orderId) => [orderId, held.filter((row) => row.order_id === orderId).length]));
    return requests.map(({ orderId }) => {
      const count = freed.get(orderId) ?? 0;
      freed.set(orderId, 0);
      return { ok: { orderId, freed: count } };
    });
  }

  /** The packets the orders, seen here before, hold already (a repeated reserve answers with them). */
  private async heldBefore(tx: Tx, orderIds: string[]): Promise<Map<string, Packet[]>> {
    const held = new Map<string, Packet[]>();
    if (orderIds.length === 0) return held;
    const rows: (Packet & { order_id: string })[] = await tx.query(`SELECT id, food_id, order_id FROM packet WHERE order_id IN (?)`, [
      orderIds,
    ]);
    for (const row of rows) held.set(row.order_id, [...(held.get(row.order_id) ?? []), { id: Number(row.id), food_id: row.food_id }]);
    return held;
  }

  /**
   * Locks, for every (store, food) the carts ask for, in store and food order, up to as many packets
   * as they want of it in all: free ones, then ones whose reservation expired (`expired`). Answers
   * the locked packets of each, not yet handed out. The free packets of every scope are locked in
   * one round trip, and the expired ones, only for scopes short of free ones, in one more.
   */
  private async lockStock(tx: Tx, carts: ReserveCartDto[]): Promise<{ stock: Map<string, number[]>; expired: Set<number> }> {
    const wanted = new Map<string, { storeId: number; foodId: number; quantity: number }>();
    for (const { storeId, items } of carts) {
      for (const { foodId, quantity } of items) {
        const key = scope(storeId, foodId);
        wanted.set(key, { storeId, foodId, quantity: (wanted.get(key)?.quantity ?? 0) + quantity });
      }
    }
    const scopes = [...wanted.values()].sort((a, b) => a.storeId - b.storeId || a.foodId - b.foodId);
    const free: Ids[] = await tx.queryAll(
      scopes.map(({ storeId, foodId, quantity }) => [
        `SELECT id FROM packet WHERE store_id = ? AND food_id = ? AND state = 'FREE' LIMIT ? FOR UPDATE SKIP LOCKED`,
        [storeId, foodId, quantity],
      ]),
    );
    const short = scopes.map((want, i) => ({ ...want, missing: want.quantity - free[i].length })).filter(({ missing }) => missing > 0);
    const expired: Ids[] = await tx.queryAll(
      short.map(({ storeId, foodId, missing }) => [
        `SELECT id FROM packet WHERE store_id = ? AND food_id = ? AND state = 'RESERVED' AND reserved_until < NOW(3)
          LIMIT ? FOR UPDATE SKIP LOCKED`,
        [storeId, foodId, missing],
      ]),
    );
    const stock = new Map(scopes.map(({ storeId, foodId }, i) => [scope(storeId, foodId), free[i].map((row) => Number(row.id))]));
    const taken = new Set<number>();
    short.forEach(({ storeId, foodId }, i) => {
      for (const row of expired[i]) {
        stock.get(scope(storeId, foodId))!.push(Number(row.id));
        taken.add(Number(row.id));
      }
    });
    return { stock, expired: taken };
  }

  /**
   * Why each cart that came up short could not be held: an unknown store or food; or, per food,
   * fewer packets in the store free or on their way back (reserved by orders still deciding, this
   * batch's included: total - assigned) than the cart needs: OUT_OF_STOCK, naming each such food
   * and how many were missing. Otherwise every packet missing now is held by orders still deciding,
   * and the answer is "ask again" (ALL_RESERVED, naming what is missing now), not a refusal (I7).
   */
  private async refusals(tx: Tx, short: { cart: ReserveCartDto; missing: Shortage[] }[]): Promise<Map<string, ContractException>> {
    const refusals = new Map<string, ContractException>();
    if (short.length === 0) return refusals;
    const storeIds = [...new Set(short.map(({ cart }) => cart.storeId))];
    type Available = { foodId: number; storeId: number | null; available: number | string | null };
    const [stores, rows] = (await tx.queryAll([
      [`SELECT id FROM dark_store WHERE id IN (?)`, [storeIds]],
      [
        `SELECT f.id AS foodId, c.store_id AS storeId, c.total - c.assigned AS available
           FROM food f LEFT JOIN packet_count c ON c.food_id = f.id AND c.store_id IN (?)
          WHERE f.id IN (?)`,
        [storeIds, [...new Set(short.flatMap(({ cart }) => cart.items.map((line) => line.foodId)))]],
      ],
    ])) as [Ids, Available[]];
    const known = new Set(stores.map((row) => Number(row.id)));
    const foods = new Set(rows.map((row) => Number(row.foodId)));
    const available = new Map(rows.map((row) => [scope(Number(row.storeId), Number(row.foodId)), Number(row.available ?? 0)]));
    for (const { cart, missing } of short) refusals.set(cart.orderId, refusal(cart, missing, known, foods, available));
    return refusals;
  }

  onApplicationBootstrap(): void {
    this.sweeper.start();
    this.barrierPruner.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.sweeper.stop(), this.barrierPruner.stop()]);
  }
}

type Packet = { id: number; food_id: number };
type LockedPacket = { id: number; store_id: number; food_id: number; state: HoldState; order_id: string };

function scope(storeId: number, foodId: number): string {
  return `${storeId}:${foodId}`;
}

/** A cart that could not have every line now, and how many packets of each food short it lacked. */
type ShortCart = { cart: ReserveCartDto; missing: Shortage[] };

/**
 * Hands the packets locked per (store, food) out to the carts in request order, as if each had run
 * alone after the one before it: a cart gets every line or nothing, and what a short cart does not
 * take stays for the carts after it.
 */
function handOut(carts: ReserveCartDto[], stock: Map<string, number[]>): { given: Map<string, Packet[]>; short: ShortCart[] } {
  const given = new Map<string, Packet[]>();
  const short: ShortCart[] = [];
  for (const cart of carts) {
    const lines = cart.items.map((line) => ({ line, left: stock.get(scope(cart.storeId, line.foodId))! }));
    const missing = lines.filter(({ line, left }) => left.length < line.quantity);
    if (missing.length > 0) {
      short.push({ cart, missing: missing.map(({ line, left }) => ({ foodId: line.foodId, missing: line.quantity - left.length })) });
    } else {
      given.set(
        cart.orderId,
        lines.flatMap(({ line, left }) => left.splice(0, line.quantity).map((id) => ({ id, food_id: line.foodId }))),
      );
    }
  }
  return { given, short };
}

/** Why a cart short of `missing` now could not be held (see PacketsService.refusals). */
function refusal(
  { storeId, items }: ReserveCartDto,
  missing: Shortage[],
  stores: Set<number>,
  foods: Set<number>,
  available: Map<string, number>,
): ContractException {
  if (!stores.has(storeId)) return storeNotFound(storeId);
  const unknown = items.find((line) => !foods.has(line.foodId));
  if (unknown) return new ContractException(ErrorCode.UNKNOWN_FOOD, `Food ${unknown.foodId} does not exist`);
  const outOfStock = items
    .map((line) => ({ foodId: line.foodId, missing: line.quantity - (available.get(scope(storeId, line.foodId)) ?? 0) }))
    .filter((shortage) => shortage.missing > 0);
  if (outOfStock.length > 0) {
    return new ContractException(ErrorCode.OUT_OF_STOCK, `Dark store ${storeId} is out of ${describe(outOfStock)}`, outOfStock);
  }
  return new ContractException(ErrorCode.ALL_RESERVED, `Orders still deciding hold the packets missing now: ${describe(missing)}`, missing);
}

/** The packets an order holds, as the lines of its cart (a repeated reserve answers what the first took). */
function heldLines(items: CartLine[], held: Packet[]): HeldLine[] {
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
