import { NotPlacedReason, OrderState, OrderView, SETTLED_STATES } from '@app/contracts';
import { isDuplicateKey, withRetries } from '@app/database';
import { Injectable } from '@nestjs/common';
import type { ResultSetHeader } from 'mysql2';
import { DataSource } from 'typeorm';
import { OrderEnv } from '../config/order.env';
import { OrderLog } from './order-log.entity';
import { Order } from './order.entity';
import { OrderTelemetry } from './order-telemetry';

export interface OrderChanges {
  reason?: NotPlacedReason | null;
  packetId?: number | null;
  agentId?: number | null;
}

/**
 * The coordinator's write-ahead log. A state is written (its order_log row by a trigger, in the
 * same statement) before the action it allows, and every transition is a compare-and-set on the
 * current state, so two instances driving the same order can never both decide: the loser sees
 * `false` and stops.
 */
@Injectable()
export class OrderJournal {
  constructor(
    private readonly dataSource: DataSource,
    private readonly env: OrderEnv,
    private readonly telemetry: OrderTelemetry,
  ) {}

  /**
   * Records a new order; false when one with this id exists already (a redelivered command, or our
   * own write hidden by a dropped connection), or one with this idempotency key (IdempotencyKeys).
   */
  async begin(
    orderId: string,
    foodId: number | null,
    state: OrderState,
    reason: NotPlacedReason | null = null,
    idempotencyKey?: string,
  ): Promise<boolean> {
    try {
      await withRetries(() =>
        this.dataSource.query(
          `INSERT INTO orders (id, food_id, state, reason, idempotency_key, lease_until) VALUES (?, ?, ?, ?, ?, ${LEASE_UNTIL})`,
          [orderId, foodId, state, reason, idempotencyKey ?? null, this.leaseMicros()],
        ),
      );
      this.telemetry.begun(orderId, foodId, state, reason);
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }

  /**
   * Moves the order from one of `from` to `to` and renews the lease. True when the order is now in
   * `to`: also when it already was (a retry after a dropped connection hid our own commit, or a
   * second driver made the same move); both drivers may then go on, as every step after a state is
   * idempotent. False when it is in another state: someone else decided, and the caller stops.
   */
  async transition(orderId: string, from: OrderState[], to: OrderState, changes: OrderChanges = {}): Promise<boolean> {
    const changed = CHANGED_KEYS.filter((key) => changes[key] !== undefined);
    const set = changed.map((key) => `, ${CHANGE_COLUMNS[key]} = ?`).join('');
    const result: ResultSetHeader = await withRetries(() =>
      this.dataSource.query(`UPDATE orders SET state = ?, lease_until = ${LEASE_UNTIL}${set} WHERE id = ? AND state IN (?)`, [
        to,
        this.leaseMicros(),
        ...changed.map((key) => changes[key]),
        orderId,
        from,
      ]),
    );
    if (result.affectedRows === 1) this.telemetry.moved(orderId, from, to, changes);
    return result.affectedRows === 1 || (await this.find(orderId))?.state === to;
  }

  async find(orderId: string): Promise<Order | null> {
    const [row]: OrderRow[] = await this.dataSource.query(`SELECT ${ORDER_COLUMNS} FROM orders WHERE id = ?`, [orderId]);
    return row ? fromRow(row) : null;
  }

  async view(orderId: string, withLog = false): Promise<OrderView | null> {
    const order = await this.find(orderId);
    if (!order) return null;
    const view = toView(order);
    if (withLog) {
      const entries = await this.dataSource.getRepository(OrderLog).find({ where: { orderId }, order: { id: 'ASC' } });
      view.log = entries.map((e) => ({ state: e.state, detail: e.detail, at: e.createdAt.toISOString() }));
    }
    return view;
  }

  /**
   * Takes over up to `limit` unsettled orders whose driver's lease ran out. The claim is a
   * conditional update, so of several instances recovering at once exactly one gets each order.
   */
  async claimStale(limit: number): Promise<Order[]> {
    const unsettled = Object.values(OrderState).filter((s) => !SETTLED_STATES.includes(s));
    const candidates = await this.dataSource
      .getRepository(Order)
      .createQueryBuilder('o')
      .where('o.state IN (:...unsettled) AND o.leaseUntil < NOW(3)', { unsettled })
      .orderBy('o.leaseUntil', 'ASC')
      .limit(limit)
      .getMany();
    const claimed: Order[] = [];
    for (const order of candidates) {
      const result: ResultSetHeader = await this.dataSource.query(
        `UPDATE orders SET lease_until = ${LEASE_UNTIL} WHERE id = ? AND state = ? AND lease_until < NOW(3)`,
        [this.leaseMicros(), order.id, order.state],
      );
      if (result.affectedRows === 1) claimed.push(order);
    }
    return claimed;
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
const LEASE_UNTIL = 'NOW(3) + INTERVAL ? MICROSECOND';
/** Every OrderChanges field and its column: a field added there does not compile until it is here. */
const CHANGE_COLUMNS: { readonly [K in keyof OrderChanges]-?: string } = { reason: 'reason', packetId: 'packet_id', agentId: 'agent_id' };
const CHANGED_KEYS = Object.keys(CHANGE_COLUMNS) as (keyof OrderChanges)[];
/** The columns of order.entity.ts, read by find(); a column changed there changes here and in fromRow. */
const ORDER_COLUMNS = 'id, food_id, state, reason, packet_id, agent_id, idempotency_key, lease_until, created_at, updated_at';

interface OrderRow {
  id: string;
  food_id: number | null;
  state: OrderState;
  reason: NotPlacedReason | null;
  packet_id: number | string | null;
  agent_id: number | null;
  idempotency_key: string | null;
  lease_until: Date;
  created_at: Date;
  updated_at: Date;
}

function fromRow(row: OrderRow): Order {
  return Object.assign(new Order(), {
    id: row.id,
    foodId: row.food_id,
    state: row.state,
    reason: row.reason,
    packetId: row.packet_id === null ? null : Number(row.packet_id),
    agentId: row.agent_id,
    idempotencyKey: row.idempotency_key,
    leaseUntil: row.lease_until,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
}

export function toView(order: Order): OrderView {
  return {
    orderId: order.id,
    foodId: order.foodId,
    state: order.state,
    reason: order.reason,
    packetId: order.packetId === null ? null : Number(order.packetId),
    agentId: order.agentId,
    createdAt: order.createdAt.toISOString(),
    updatedAt: order.updatedAt.toISOString(),
  };
}
