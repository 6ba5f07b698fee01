import type { ResultSetHeader } from 'mysql2';
import { DataSource, EntityManager, EntityMetadata, EntityTarget, FindOptionsWhere, In } from 'typeorm';
import { ErrorCode, HoldState } from '@app/contracts';
import { ContractException, PeriodicTask } from '@app/platform';
import { transaction, withRetries } from '@app/database';
import { reservationsExpired } from './participant-metrics';
import { closeBarrier, enterBarrier } from './branch-barrier';

/** The columns every participant row shares: packets in the store, agents in delivery. */
export interface HeldRow {
  id: number;
  state: HoldState;
  orderId: string | null;
  reservedUntil: Date | null;
}

/**
 * Which rows a reserve may take, by entity property: `{ foodId }` for packets, `{}` for agents. Plain
 * values only: a missing one would read as `= NULL` in SQL and match nothing.
 */
export type Scope<E> = { [K in Exclude<keyof E, keyof HeldRow>]?: E[K] & (number | string) };

export interface HoldRowsOptions {
  /** The participant's branch barrier table (see enterBarrier). */
  barrier: string;
  /** What a row is, for messages: "packet", "agent". */
  noun: string;
  ttlMs: number;
}

/**
 * A participant's side of the two-phase commit over its rows, the one implementation the store and
 * delivery both use. Every method is keyed by order id and safe to repeat. Reserve and release run
 * under READ COMMITTED: SKIP LOCKED under REPEATABLE READ takes gap locks that deadlock concurrent
 * reservations.
 *
 * The statements of every order are plain parameterized SQL, written once from the entity's
 * metadata: TypeORM's query builder took about a sixth of a participant's CPU per message to write
 * the same statements. The cold paths keep the repository API.
 */
export class HoldRows<E extends HeldRow> {
  private readonly metadata: EntityMetadata;
  private readonly sql: { reserve: string; assign: string; free: string; lockSelect: string; isFree: string; isExpired: string };

  constructor(
    private readonly dataSource: DataSource,
    private readonly entity: EntityTarget<E>,
    private readonly options: HoldRowsOptions,
  ) {
    this.metadata = dataSource.getMetadata(entity);
    const table = this.quote(this.metadata.tableName);
    const [id, state, orderId, until] = (['id', 'state', 'orderId', 'reservedUntil'] as const).map((p) => this.column(p));
    this.sql = {
      reserve: `UPDATE ${table} SET ${state} = ?, ${orderId} = ?, ${until} = NOW(3) + INTERVAL ? MICROSECOND WHERE ${id} = ?`,
      assign: `UPDATE ${table} SET ${state} = ?, ${until} = NULL WHERE ${id} = ? AND ${orderId} = ? AND ${state} = ?`,
      free: `UPDATE ${table} SET ${state} = ?, ${orderId} = NULL, ${until} = NULL WHERE ${orderId} = ? AND ${state} IN (?)`,
      lockSelect: `SELECT ${id} AS id FROM ${table} WHERE `,
      isFree: `${state} = ?`,
      isExpired: `${state} = ? AND ${until} < NOW(3)`,
    };
  }

  /**
   * Phase 1: holds one available row matching `scope` for the order until the reservation
   * expires, and returns its id. An expired reservation counts as available. When none is,
   * `refuse` says why (see refusal).
   */
  reserve(orderId: string, scope: Scope<E>, refuse: (manager: EntityManager) => Promise<ContractException>): Promise<number> {
    return transaction(this.dataSource, async (manager) => {
      const barrier = await enterBarrier(manager, this.options.barrier, orderId);
      if (barrier.released) {
        throw new ContractException(ErrorCode.ORDER_RELEASED, `Order ${orderId} was already released; not reserving`);
      }
      if (!barrier.firstVisit) {
        // A repeated reserve answers with what the first one took.
        const held = await manager.findOne(this.entity, { where: { orderId } as FindOptionsWhere<E> });
        if (held) return held.id;
      }
      const rowId = (await this.lockAvailable(manager, scope, 'free')) ?? (await this.takeExpired(manager, scope));
      if (rowId === undefined) throw await refuse(manager);
      await manager.query(this.sql.reserve, [HoldState.RESERVED, orderId, this.options.ttlMs * 1000, rowId]);
      return rowId;
    });
  }

  /**
   * Why nothing could be locked. Rows still free or reserved (as committed; some may be locked by
   * reservations in flight) may come back, so the answer is "ask again" (ALL_RESERVED), not a
   * refusal: refusing then would turn away an order that could be placed (I7).
   */
  async refusal(manager: EntityManager, scope: Scope<E>, final: ContractException): Promise<ContractException> {
    const mayComeBack = await manager.existsBy(this.entity, {
      ...scope,
      state: In([HoldState.FREE, HoldState.RESERVED]),
    } as FindOptionsWhere<E>);
    return mayComeBack
      ? new ContractException(ErrorCode.ALL_RESERVED, `Every ${this.options.noun} is held by orders still deciding`)
      : final;
  }

  /**
   * Phase 2: turns this order's reservation of row `rowId` (the one the coordinator logged at its
   * decision) into an assignment. Refused only once that row is no longer reserved for the order
   * (swept, or taken by another order): expiry alone does not refuse it, losing the row does, and
   * that loss is final. Two autocommit statements, not a transaction: the update alone decides.
   */
  assign(orderId: string, rowId: number): Promise<number> {
    return withRetries(async () => {
      const result: ResultSetHeader = await this.dataSource.query(this.sql.assign, [
        HoldState.ASSIGNED,
        rowId,
        orderId,
        HoldState.RESERVED,
      ]);
      if (result.affectedRows === 1) return rowId;
      const row = await this.dataSource.getRepository(this.entity).findOne({
        where: { id: rowId, orderId } as FindOptionsWhere<E>,
        select: { id: true, state: true } as never,
      });
      if (row?.state === HoldState.ASSIGNED) return rowId;
      throw new ContractException(ErrorCode.RESERVATION_LOST, `${this.options.noun} ${rowId} is no longer reserved for order ${orderId}`);
    });
  }

  /** Abort: frees whatever this order holds, reserved or assigned, and bars later reserves of it. */
  release(orderId: string): Promise<number> {
    return this.freeAndClose(orderId, [HoldState.RESERVED, HoldState.ASSIGNED]);
  }

  /** The order is done with its row (a delivery completed): frees it and bars later reserves of the order. */
  complete(orderId: string): Promise<number> {
    return this.freeAndClose(orderId, [HoldState.ASSIGNED]);
  }

  /**
   * Gives back a reservation while the order waits for its other side. Unlike release it leaves the
   * barrier open, so the order may reserve again; a reserve of it still in flight (the coordinator
   * sends this only after its reserve answered, so at most a redelivered copy) just holds a row
   * until release or expiry.
   */
  yield(orderId: string): Promise<number> {
    // One statement on the unique order_id: atomic on its own.
    return withRetries(() => this.free(this.dataSource.manager, orderId, [HoldState.RESERVED]));
  }

  private freeAndClose(orderId: string, from: HoldState[]): Promise<number> {
    return transaction(this.dataSource, async (manager) => {
      await closeBarrier(manager, this.options.barrier, orderId);
      return this.free(manager, orderId, from);
    });
  }

  private async free(manager: EntityManager, orderId: string, from: HoldState[]): Promise<number> {
    const result: ResultSetHeader = await manager.query(this.sql.free, [HoldState.FREE, orderId, from]);
    return result.affectedRows;
  }

  /** The periodic sweep that gives expired reservations back even if no coordinator ever returns (I3). */
  sweeper(intervalMs: number): PeriodicTask {
    return new PeriodicTask(`${this.options.noun} sweeper`, intervalMs, async () => {
      const freed = await this.sweepExpired();
      reservationsExpired.inc({ resource: this.options.noun, fate: 'swept' }, freed);
      return freed > 0 ? `Swept ${freed} expired ${this.options.noun} reservation(s)` : undefined;
    });
  }

  /** Frees reservations past their expiry, a batch at a time; returns how many it freed. */
  async sweepExpired(batch = 1000): Promise<number> {
    let total = 0;
    for (;;) {
      // READ COMMITTED, like reserve: a range update under REPEATABLE READ would gap-lock the index.
      const result = await transaction(this.dataSource, (manager) =>
        manager
          .createQueryBuilder()
          .update(this.entity)
          .set({ state: HoldState.FREE, orderId: null, reservedUntil: null } as never)
          .where('state = :state AND reserved_until < NOW(3)', { state: HoldState.RESERVED })
          .limit(batch)
          .execute(),
      );
      total += result.affected ?? 0;
      if ((result.affected ?? 0) < batch) return total;
    }
  }

  private async takeExpired(manager: EntityManager, scope: Scope<E>): Promise<number | undefined> {
    const rowId = await this.lockAvailable(manager, scope, 'expired');
    if (rowId !== undefined) reservationsExpired.inc({ resource: this.options.noun, fate: 'taken' });
    return rowId;
  }

  /** One available row's id, locked; rows other transactions are locking are skipped, not waited for. */
  private async lockAvailable(manager: EntityManager, scope: Scope<E>, kind: 'free' | 'expired'): Promise<number | undefined> {
    const entries = Object.entries(scope);
    const columns = entries.map(([property, value]) => {
      if (typeof value !== 'number' && typeof value !== 'string')
        throw new Error(`${this.options.noun} scope ${property} is ${String(value)}`);
      return `${this.column(property)} = ? AND `;
    });
    const available = kind === 'free' ? this.sql.isFree : this.sql.isExpired;
    const rows: { id: number | string }[] = await manager.query(
      `${this.sql.lockSelect}${columns.join('')}${available} LIMIT 1 FOR UPDATE SKIP LOCKED`,
      [...entries.map(([, value]) => value), kind === 'free' ? HoldState.FREE : HoldState.RESERVED],
    );
    return rows.length > 0 ? Number(rows[0].id) : undefined;
  }

  /** The column of an entity property, quoted, as the entity maps it. */
  private column(property: string): string {
    const column = this.metadata.findColumnWithPropertyName(property);
    if (!column) throw new Error(`${this.options.noun} has no column for ${property}`);
    return this.quote(column.databaseName);
  }

  private quote(name: string): string {
    return this.dataSource.driver.escape(name);
  }
}
