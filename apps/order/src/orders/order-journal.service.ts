import { canMove, CartLine, NotPlacedReason, OrderLine, OrderState, OrderView, SETTLED_STATES, UNSETTLED_STATES } from '@app/contracts';
import { pruner, transaction, withRetries } from '@app/database';
import { Batcher, PeriodicTask } from '@app/platform';
import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { ResultSetHeader } from 'mysql2';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { OrderEnv } from '../config/order.env';
import { OrderLog } from './order-log.entity';
import { Order, OrderChanges } from './order.entity';
import { OrderTelemetry } from './order-telemetry';

/**
 * The right to drive one order: `owner` is a fencing token written with the order's lease. Only the
 * holder of the current token can move the order, so of two drivers (a duplicated command, a
 * process stopped past its lease and then resumed) at most one ever decides.
 */
export interface OrderLease {
  orderId: string;
  owner: string;
}

/**
 * The coordinator's write-ahead log. A state is written (its order_log row by a trigger, in the
 * same statement) before the action it allows, and every move is a compare-and-set on the order's
 * state and its lease owner. Every statement is retried after a dropped connection or a rollback:
 * all of them are idempotent (an insert keyed by the order id, a compare-and-set, a read). The log
 * rows of settled orders older than RETENTION_MS are pruned (pruneLog); the orders are kept.
 */
@Injectable()
export class OrderJournal implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logPruner: PeriodicTask;
  /** The hot statements, each batched across orders: one statement and one commit for many orders. */
  private readonly inserts: Batcher<NewOrder, boolean>;
  private readonly moves: Batcher<Move, Order | undefined>;
  private readonly reads: Batcher<string, Order | null>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly env: OrderEnv,
    private readonly telemetry: OrderTelemetry,
  ) {
    this.logPruner = pruner('order_log', env, (floor, batch) => this.pruneLog(floor, batch));
    const options = { max: env.BATCH_MAX, inFlight: env.BATCH_IN_FLIGHT };
    const each = <O>(outcomes: O[]) => outcomes.map((ok) => ({ ok }));
    this.inserts = new Batcher('order log: begin', async (orders) => each(await this.insertMany(orders)), options);
    this.moves = new Batcher('order log: move', async (moves) => each(await this.moveMany(moves)), options);
    this.reads = new Batcher('order log: find', async (ids) => each(await this.findMany(ids)), options);
  }

  /**
   * Records a new order, owned by the returned lease; undefined when one with this id exists
   * already (a duplicated command) or one with this idempotency key (IdempotencyKeys answers those).
   */
  async begin(
    orderId: string,
    cart: Cart | null,
    state: OrderState,
    reason: NotPlacedReason | null = null,
    idempotencyKey?: string,
  ): Promise<OrderLease | undefined> {
    const lease = { orderId, owner: randomUUID() };
    const items: OrderLine[] = cart?.items.map(({ foodId, quantity }) => ({ foodId, quantity, packetIds: [] })) ?? [];
    const order: NewOrder = { ...lease, storeId: cart?.storeId ?? null, items, state, reason, idempotencyKey: idempotencyKey ?? null };
    if (!(await this.inserts.call(order))) return undefined;
    this.telemetry.begun(orderId, order.storeId, state, reason);
    return lease;
  }

  /**
   * Moves the order from `from` to `to` with `changes`, and renews the lease, if `lease` still owns
   * it. Answers the order as this move left it when this lease made the move (also when a retry
   * after a dropped connection finds its own committed write), read in the same round trip, so the
   * caller answers with it without reading it again. Undefined when the order is another driver's
   * now, or in another state: the caller has lost it and must not act on it any more.
   */
  async transition(lease: OrderLease, from: OrderState, to: OrderState, changes: OrderChanges = {}): Promise<Order | undefined> {
    if (!canMove(from, to)) throw new Error(`Order ${lease.orderId}: ${from} -> ${to} is not a transition of the order machine`);
    const moved = await this.moves.call({ ...lease, from, to, changes });
    if (moved) this.telemetry.moved(lease.orderId, from, to, changes);
    return moved;
  }

  /**
   * Moves a settled order on under a new lease (PLACED -> DELIVERING): nobody drives a settled
   * order, so whoever moves it first owns the step. Undefined when it is not in `from`.
   */
  async reopen(orderId: string, from: OrderState, to: OrderState): Promise<OrderLease | undefined> {
    if (!canMove(from, to)) throw new Error(`Order ${orderId}: ${from} -> ${to} is not a transition of the order machine`);
    const lease = { orderId, owner: randomUUID() };
    const result: ResultSetHeader = await withRetries(() =>
      this.dataSource.query(
        `UPDATE orders SET state = ?, lease_until = NOW(3) + INTERVAL ? MICROSECOND, lease_owner = ?
          WHERE id = ? AND state = ?`,
        [to, this.leaseMicros(), lease.owner, orderId, from],
      ),
    );
    if (result.affectedRows !== 1 && !(await this.isOwnMove(lease, to))) return undefined;
    this.telemetry.moved(orderId, from, to, {});
    return lease;
  }

  /**
   * Takes an unsettled order over when its driver's lease ran out: a new fencing token, so the old
   * driver, should it come back, can no longer move it. Exactly one of several claimants wins.
   */
  async claim(order: Order): Promise<OrderLease | undefined> {
    const lease = { orderId: order.id, owner: randomUUID() };
    const result: ResultSetHeader = await withRetries(() =>
      this.dataSource.query(
        `UPDATE orders SET lease_until = NOW(3) + INTERVAL ? MICROSECOND, lease_owner = ?
          WHERE id = ? AND state = ? AND lease_until < NOW(3)`,
        [this.leaseMicros(), lease.owner, order.id, order.state],
      ),
    );
    if (result.affectedRows === 1) return lease;
    return (await this.find(order.id))?.leaseOwner === lease.owner ? lease : undefined;
  }

  /** Unsettled orders whose driver's lease ran out, oldest lease first: candidates for claim(). */
  stale(limit: number): Promise<Order[]> {
    return withRetries(async () => {
      const rows: OrderRow[] = await this.dataSource.query(
        `SELECT ${ORDER_COLUMNS} FROM orders WHERE state IN (?) AND lease_until < NOW(3) ORDER BY lease_until LIMIT ?`,
        [UNSETTLED_STATES, limit],
      );
      return rows.map(fromRow);
    });
  }

  find(orderId: string): Promise<Order | null> {
    return this.reads.call(orderId);
  }

  async view(orderId: string, withLog = false): Promise<OrderView | null> {
    const order = await this.find(orderId);
    if (!order) return null;
    const view = toView(order);
    if (withLog) {
      const entries = await withRetries(() => this.dataSource.getRepository(OrderLog).find({ where: { orderId }, order: { id: 'ASC' } }));
      view.log = entries.map((e) => ({ state: e.state, detail: e.detail, at: e.createdAt.toISOString() }));
    }
    return view;
  }

  /**
   * Deletes up to `batch` order_log rows of settled orders minted before `floor`, oldest first: a
   * range of idx_order_log_order, each row's order read by its primary key. An unsettled order keeps
   * its log whatever its age (recovery may still be driving it); a settled order that moves on
   * (PLACED -> DELIVERING) logs again, and those rows go once it has settled again. Orders that old
   * are written only by a delivery or by recovery finishing an abort, never by the hot path, so
   * neither waits long for the other; READ COMMITTED, like the participants' statements, so it
   * gap-locks nothing. Orders themselves are kept: they are the business record, and a look-up of a
   * missing order id would record it as lost.
   */
  async pruneLog(floor: string, batch: number): Promise<number> {
    const result = await transaction(this.dataSource, (tx): Promise<ResultSetHeader> =>
      tx.query(
        `DELETE FROM order_log
          WHERE order_id < ? AND order_id IN (SELECT id FROM orders WHERE state IN (?))
          ORDER BY order_id LIMIT ?`,
        [floor, SETTLED_STATES, batch],
      ),
    );
    return result.affectedRows;
  }

  onApplicationBootstrap(): void {
    this.logPruner.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.logPruner.stop();
  }

  /** After a compare-and-set that changed nothing: whether our own move is what is logged (a retry hid its commit). */
  private async isOwnMove(lease: OrderLease, to: OrderState): Promise<boolean> {
    const order = await this.find(lease.orderId);
    return order?.state === to && order.leaseOwner === lease.owner;
  }

  /**
   * begin() for many orders: one multi-row insert. An order whose id (or idempotency key) exists
   * already is skipped by IGNORE, and is ours only if the row holds our lease: a retry after a
   * dropped connection meets the insert that connection committed. When every row went in, nothing
   * is read back.
   */
  private async insertMany(orders: NewOrder[]): Promise<boolean[]> {
    const result: ResultSetHeader = await withRetries(() =>
      this.dataSource.query(
        `INSERT IGNORE INTO orders (id, store_id, items, state, reason, idempotency_key, lease_until, lease_owner)
         VALUES ${orders.map(() => '(?, ?, ?, ?, ?, ?, NOW(3) + INTERVAL ? MICROSECOND, ?)').join(', ')}`,
        orders.flatMap((o) => [
          o.orderId,
          o.storeId,
          JSON.stringify(o.items),
          o.state,
          o.reason,
          o.idempotencyKey,
          this.leaseMicros(),
          o.owner,
        ]),
      ),
    );
    if (result.affectedRows === orders.length) return orders.map(() => true);
    const owners = await this.ownersOf(orders.map((o) => o.orderId));
    return orders.map((o) => owners.get(o.orderId)?.leaseOwner === o.owner);
  }

  /**
   * transition() for many orders: one compare-and-set statement, each order moved only if it is
   * still in its `from` state under its lease, and the orders read back right after it, in the same
   * round trip (see moveStatement). An order named twice (two drivers' moves meeting in one batch)
   * goes to a statement of its own, so each CASE names an order once.
   */
  private async moveMany(moves: Move[]): Promise<(Order | undefined)[]> {
    const moved = new Map<Move, Order | undefined>();
    for (const round of distinctRounds(moves)) {
      const [, rows]: [ResultSetHeader, OrderRow[]] = await withRetries(() =>
        this.dataSource.query(...moveStatement(round, this.leaseMicros())),
      );
      const after = new Map(rows.map((row) => [row.id, fromRow(row)]));
      for (const move of round) {
        // Ours exactly when it stands where we moved it, under our lease: no one else moves an order
        // whose lease we hold, and we renewed it. So also when a retry meets our own committed move.
        const order = after.get(move.orderId);
        moved.set(move, order?.state === move.to && order.leaseOwner === move.owner ? order : undefined);
      }
    }
    return moves.map((move) => moved.get(move));
  }

  /** find() for many orders: one read by primary key. */
  private async findMany(orderIds: string[]): Promise<(Order | null)[]> {
    const rows: OrderRow[] = await withRetries(() =>
      this.dataSource.query(`SELECT ${ORDER_COLUMNS} FROM orders WHERE id IN (?)`, [[...new Set(orderIds)]]),
    );
    const orders = new Map(rows.map((row) => [row.id, fromRow(row)]));
    return orderIds.map((id) => orders.get(id) ?? null);
  }

  private async ownersOf(orderIds: string[]): Promise<Map<string, { state: OrderState; leaseOwner: string | null }>> {
    const rows: { id: string; state: OrderState; lease_owner: string | null }[] = await withRetries(() =>
      this.dataSource.query(`SELECT id, state, lease_owner FROM orders WHERE id IN (?)`, [[...new Set(orderIds)]]),
    );
    return new Map(rows.map((row) => [row.id, { state: row.state, leaseOwner: row.lease_owner }]));
  }

  private leaseMicros(): number {
    return this.env.LEASE_MS * 1000;
  }
}

/*
 * The statements every order runs are plain parameterized SQL: TypeORM's query builder and entity
 * hydration took about a sixth of the service's CPU per order to write and read the same rows.
 * The database clock decides leases, so instances with skewed clocks still agree.
 */
/** The columns of order.entity.ts, read by find(); a column changed there changes here and in fromRow. */
const ORDER_COLUMNS = 'id, store_id, items, state, reason, agent_id, idempotency_key, lease_until, lease_owner, created_at, updated_at';

interface OrderRow {
  id: string;
  store_id: number | null;
  /** Text in MariaDB (its JSON is LONGTEXT), already parsed by mysql2 from MySQL's JSON type. */
  items: string | OrderLine[];
  state: OrderState;
  reason: NotPlacedReason | null;
  agent_id: number | null;
  idempotency_key: string | null;
  lease_until: Date;
  lease_owner: string | null;
  created_at: Date;
  updated_at: Date;
}

function fromRow(row: OrderRow): Order {
  return Object.assign(new Order(), {
    id: row.id,
    storeId: row.store_id,
    items: typeof row.items === 'string' ? (JSON.parse(row.items) as OrderLine[]) : row.items,
    state: row.state,
    reason: row.reason,
    agentId: row.agent_id,
    idempotencyKey: row.idempotency_key,
    leaseUntil: row.lease_until,
    leaseOwner: row.lease_owner,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
}

export function toView(order: Order): OrderView {
  const view: OrderView = {
    orderId: order.id,
    storeId: order.storeId,
    items: order.items,
    state: order.state,
    reason: order.reason,
    agentId: order.agentId,
    createdAt: order.createdAt.toISOString(),
    updatedAt: order.updatedAt.toISOString(),
  };
  // An order of one packet also answers as the single-food API always did.
  const [only] = order.items;
  if (order.items.length === 1 && only.quantity === 1) Object.assign(view, { foodId: only.foodId, packetId: only.packetIds[0] ?? null });
  return view;
}

/** An order as begin() inserts it, with the lease that will own it. */
interface NewOrder extends OrderLease {
  storeId: number | null;
  items: OrderLine[];
  state: OrderState;
  reason: NotPlacedReason | null;
  idempotencyKey: string | null;
}

/** A transition() waiting for its batch. */
interface Move extends OrderLease {
  from: OrderState;
  to: OrderState;
  changes: OrderChanges;
}

/** Splits moves into rounds in which no order appears twice, keeping each order's moves in their order. */
function distinctRounds(moves: Move[]): Move[][] {
  const rounds: Move[][] = [];
  const seen = new Map<string, number>();
  for (const move of moves) {
    const round = seen.get(move.orderId) ?? 0;
    seen.set(move.orderId, round + 1);
    (rounds[round] ??= []).push(move);
  }
  return rounds;
}

/**
 * The compare-and-set of many orders, whole: each order's new state and changes by CASE on its id,
 * and a row moves only where its id, state and lease owner are all as the move expects. The lease
 * is renewed by the database clock. A column no move changes is left out. The orders are read back
 * in the same message (a second statement, run right after the first commits), so a move costs one
 * round trip whether or not every row moved.
 */
function moveStatement(moves: Move[], leaseMicros: number): [string, unknown[]] {
  const setParams: unknown[] = [];
  const caseOf = (column: string, value: (move: Move) => unknown) => {
    const changing = moves.filter((move) => value(move) !== undefined);
    if (changing.length === 0) return '';
    for (const move of changing) setParams.push(move.orderId, value(move) ?? null);
    return `, ${column} = CASE id ${changing.map(() => 'WHEN ? THEN ?').join(' ')} ELSE ${column} END`;
  };
  const set =
    caseOf('state', (move) => move.to) +
    caseOf('reason', (move) => move.changes.reason) +
    caseOf('items', (move) => move.changes.items && JSON.stringify(move.changes.items)) +
    caseOf('agent_id', (move) => move.changes.agentId);
  const sql = `UPDATE orders
      SET lease_until = NOW(3) + INTERVAL ? MICROSECOND${set}
    WHERE id IN (?) AND (id, state, lease_owner) IN (${moves.map(() => '(?, ?, ?)').join(', ')});
    SELECT ${ORDER_COLUMNS} FROM orders WHERE id IN (?)`;
  const ids = moves.map((move) => move.orderId);
  const where = moves.flatMap((move) => [move.orderId, move.from, move.owner]);
  return [sql, [leaseMicros, ...setParams, ids, ...where, ids]];
}

/** A cart as a command brings it: a dark store and its lines. */
export interface Cart {
  storeId: number;
  items: CartLine[];
}
