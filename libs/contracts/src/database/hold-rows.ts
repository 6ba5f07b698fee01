import { DataSource, EntityManager, EntityTarget, FindOptionsWhere, In } from 'typeorm';
import { ErrorCode } from '../errors';
import { reservationsExpired } from '../observability/participant-metrics';
import { HoldState } from '../replies';
import { PeriodicTask } from '../runtime/periodic-task';
import { ContractException } from '../transport/contract.exception';
import { closeBarrier, enterBarrier } from './branch-barrier';
import { transaction, withRetries } from './database';

/** The columns every participant row shares: packets in the store, agents in delivery. */
export interface HeldRow {
  id: number;
  state: HoldState;
  orderId: string | null;
  reservedUntil: Date | null;
}

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
 */
export class HoldRows<E extends HeldRow> {
  constructor(
    private readonly dataSource: DataSource,
    private readonly entity: EntityTarget<E>,
    private readonly options: HoldRowsOptions,
  ) {}

  /**
   * Phase 1: holds one available row matching `scope` for the order until the reservation
   * expires, and returns its id. An expired reservation counts as available. When none is,
   * `refuse` says why (see refusal).
   */
  reserve(orderId: string, scope: FindOptionsWhere<E>, refuse: (manager: EntityManager) => Promise<ContractException>): Promise<number> {
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
      const row = (await this.lockAvailable(manager, scope, 'free')) ?? (await this.takeExpired(manager, scope));
      if (!row) throw await refuse(manager);
      await manager
        .createQueryBuilder()
        .update(this.entity)
        .set({ state: HoldState.RESERVED, orderId, reservedUntil: () => 'NOW(3) + INTERVAL :ttl MICROSECOND' } as never)
        .setParameter('ttl', this.options.ttlMs * 1000)
        .where('id = :id', { id: row.id })
        .execute();
      return row.id;
    });
  }

  /**
   * Why nothing could be locked. Rows still free or reserved (as committed; some may be locked by
   * reservations in flight) may come back, so the answer is "ask again" (ALL_RESERVED), not a
   * refusal: refusing then would turn away an order that could be placed (I7).
   */
  async refusal(manager: EntityManager, scope: FindOptionsWhere<E>, final: ContractException): Promise<ContractException> {
    const mayComeBack = await manager.existsBy(this.entity, { ...scope, state: In([HoldState.FREE, HoldState.RESERVED]) } as FindOptionsWhere<E>);
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
      const result = await this.dataSource
        .createQueryBuilder()
        .update(this.entity)
        .set({ state: HoldState.ASSIGNED, reservedUntil: null } as never)
        .where('id = :rowId AND order_id = :orderId AND state = :reserved', { rowId, orderId, reserved: HoldState.RESERVED })
        .execute();
      if (result.affected === 1) return rowId;
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
    const result = await manager.update(
      this.entity,
      { orderId, state: In(from) } as FindOptionsWhere<E>,
      { state: HoldState.FREE, orderId: null, reservedUntil: null } as never,
    );
    return result.affected ?? 0;
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

  private async takeExpired(manager: EntityManager, scope: FindOptionsWhere<E>): Promise<E | null> {
    const row = await this.lockAvailable(manager, scope, 'expired');
    if (row) reservationsExpired.inc({ resource: this.options.noun, fate: 'taken' });
    return row;
  }

  /** One available row, locked; rows other transactions are locking are skipped, not waited for. */
  private lockAvailable(manager: EntityManager, scope: FindOptionsWhere<E>, kind: 'free' | 'expired'): Promise<E | null> {
    const query = manager.createQueryBuilder(this.entity, 'r').select('r.id');
    if (Object.keys(scope).length > 0) query.where(scope);
    if (kind === 'free') query.andWhere('r.state = :free', { free: HoldState.FREE });
    else query.andWhere('r.state = :reserved AND r.reservedUntil < NOW(3)', { reserved: HoldState.RESERVED });
    return query.limit(1).setLock('pessimistic_write').setOnLocked('skip_locked').getOne();
  }
}
