import {
  ContractException,
  ErrorCode,
  HoldState,
  PacketAssignment,
  PacketReservation,
  ReleaseResult,
  closeBarrier,
  enterBarrier,
  transaction,
  withRetries,
} from '@app/contracts';
import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager, In } from 'typeorm';
import { StoreEnv } from '../config/store.env';
import { Food } from '../foods/food.entity';
import { Packet } from './packet.entity';

const BARRIER = 'packet_barrier';

/**
 * The store's side of the two-phase commit. Every method is one READ COMMITTED transaction keyed by
 * order id and safe to repeat. READ COMMITTED because SKIP LOCKED under REPEATABLE READ takes gap
 * locks that deadlock concurrent reservations.
 */
@Injectable()
export class PacketsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly env: StoreEnv,
  ) {}

  /** Phase 1: holds one packet of the food for the order until the reservation expires. */
  reserve(orderId: string, foodId: number): Promise<PacketReservation> {
    return transaction(this.dataSource, async (manager) => {
      const barrier = await enterBarrier(manager, BARRIER, orderId);
      if (barrier.released) {
        throw new ContractException(ErrorCode.ORDER_RELEASED, `Order ${orderId} was already released; not reserving`);
      }
      if (!barrier.firstVisit) {
        // A repeated reserve answers with what the first one took.
        const held = await manager.findOne(Packet, { where: { orderId } });
        if (held) return { orderId, packetId: held.id };
      }

      const packet = (await this.lockAvailable(manager, foodId, 'free')) ?? (await this.lockAvailable(manager, foodId, 'expired'));
      if (!packet) throw await this.refusal(manager, foodId);
      await manager
        .createQueryBuilder()
        .update(Packet)
        .set({ state: HoldState.RESERVED, orderId, reservedUntil: () => 'NOW(3) + INTERVAL :ttl MICROSECOND' })
        .setParameter('ttl', this.env.RESERVATION_TTL_MS * 1000)
        .where('id = :id', { id: packet.id })
        .execute();
      return { orderId, packetId: packet.id };
    });
  }

  /**
   * Phase 2: turns this order's reservation into an assignment. Refused when the packet is no
   * longer reserved for the order: expiry alone does not refuse it, losing the row does (it was swept
   * or taken by another order), and that loss is final.
   */
  assign(orderId: string): Promise<PacketAssignment> {
    // Two autocommit statements instead of a transaction: the update alone decides, atomically.
    return withRetries(async () => {
      const result = await this.dataSource
        .createQueryBuilder()
        .update(Packet)
        .set({ state: HoldState.ASSIGNED, reservedUntil: null })
        .where('order_id = :orderId AND state = :reserved', { orderId, reserved: HoldState.RESERVED })
        .execute();
      const packet = await this.dataSource.getRepository(Packet).findOne({ where: { orderId }, select: { id: true, state: true } });
      if (packet && (result.affected === 1 || packet.state === HoldState.ASSIGNED)) return { orderId, packetId: packet.id };
      throw new ContractException(ErrorCode.RESERVATION_LOST, `No packet is reserved for order ${orderId} any more`);
    });
  }

  /** Abort: frees whatever this order holds, reserved or assigned, and bars later reserves of it. */
  release(orderId: string): Promise<ReleaseResult> {
    return transaction(this.dataSource, async (manager) => {
      await closeBarrier(manager, BARRIER, orderId);
      const result = await manager.update(Packet, { orderId }, { state: HoldState.FREE, orderId: null, reservedUntil: null });
      return { orderId, freed: result.affected ?? 0 };
    });
  }

  /** Frees reservations past their expiry, a batch at a time; returns how many it freed. */
  async sweepExpired(batch = 1000): Promise<number> {
    let total = 0;
    for (;;) {
      const result = await this.dataSource
        .createQueryBuilder()
        .update(Packet)
        .set({ state: HoldState.FREE, orderId: null, reservedUntil: null })
        .where('state = :state AND reserved_until < NOW(3)', { state: HoldState.RESERVED })
        .limit(batch)
        .execute();
      total += result.affected ?? 0;
      if ((result.affected ?? 0) < batch) return total;
    }
  }

  /** One available packet, locked; rows other transactions are locking are skipped, not waited for. */
  private lockAvailable(manager: EntityManager, foodId: number, kind: 'free' | 'expired'): Promise<Packet | null> {
    const query = manager.createQueryBuilder(Packet, 'p').select('p.id').where('p.foodId = :foodId', { foodId });
    if (kind === 'free') query.andWhere('p.state = :state', { state: HoldState.FREE });
    else query.andWhere('p.state = :state AND p.reservedUntil < NOW(3)', { state: HoldState.RESERVED });
    return query.limit(1).setLock('pessimistic_write').setOnLocked('skip_locked').getOne();
  }

  /**
   * Why nothing could be locked. Packets still free or reserved (as committed; some may be locked by
   * reservations in flight) may come back, so the answer is "ask again" (ALL_RESERVED), not a
   * refusal: refusing then would turn away an order that could be placed (I7).
   */
  private async refusal(manager: EntityManager, foodId: number): Promise<ContractException> {
    if (!(await manager.existsBy(Food, { id: foodId }))) {
      return new ContractException(ErrorCode.UNKNOWN_FOOD, `Food ${foodId} does not exist`);
    }
    const mayComeBack = await manager.existsBy(Packet, { foodId, state: In([HoldState.FREE, HoldState.RESERVED]) });
    return mayComeBack
      ? new ContractException(ErrorCode.ALL_RESERVED, `Every packet of food ${foodId} is held by orders still deciding`)
      : new ContractException(ErrorCode.OUT_OF_STOCK, `Food ${foodId} is out of stock`);
  }
}
