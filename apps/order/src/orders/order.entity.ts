import { NotPlacedReason, OrderLine, OrderState } from '@app/contracts';
import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity('orders')
export class Order {
  @PrimaryColumn({ type: 'char', length: 36 })
  id: string;

  /** The dark store whose packets and agent serve the order; null only when its command never arrived. */
  @Column({ name: 'store_id', type: 'int', unsigned: true, nullable: true })
  storeId: number | null;

  /** The cart's lines: what it asked for and, once decided to commit, the packets it holds. */
  @Column({ type: 'json' })
  items: OrderLine[];

  @Column({ type: 'enum', enum: OrderState })
  state: OrderState;

  @Column({ type: 'varchar', length: 32, nullable: true })
  reason: NotPlacedReason | null;

  @Column({ name: 'agent_id', type: 'int', unsigned: true, nullable: true })
  agentId: number | null;

  /** The client's Idempotency-Key, unique; null when the request had none. */
  @Column({ name: 'idempotency_key', type: 'varchar', length: 100, nullable: true })
  idempotencyKey: string | null;

  @Column({ name: 'lease_until', type: 'datetime', precision: 3 })
  leaseUntil: Date;

  /** The fencing token of the driver that owns the order until lease_until (see OrderJournal). */
  @Column({ name: 'lease_owner', type: 'char', length: 36, nullable: true })
  leaseOwner: string | null;

  @Column({ name: 'created_at', type: 'datetime', precision: 3, insert: false, update: false })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'datetime', precision: 3, insert: false, update: false })
  updatedAt: Date;
}

/** What a state change may record besides the state: the reason of an abort, the rows of a commit decision. */
export type OrderChanges = Partial<Pick<Order, 'reason' | 'items' | 'agentId'>>;
