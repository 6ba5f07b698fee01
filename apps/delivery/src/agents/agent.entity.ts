import { HoldState } from '@app/contracts';
import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity('agent')
export class Agent {
  @PrimaryGeneratedColumn({ unsigned: true })
  id: number;

  /** The dark store the agent works from (the store service's id). */
  @Column({ name: 'store_id', type: 'int', unsigned: true })
  storeId: number;

  @Column({ type: 'varchar', length: 100, nullable: true })
  name: string | null;

  @Column({ type: 'enum', enum: HoldState, default: HoldState.FREE })
  state: HoldState;

  @Column({ name: 'order_id', type: 'char', length: 36, nullable: true })
  orderId: string | null;

  @Column({ name: 'reserved_until', type: 'datetime', precision: 3, nullable: true })
  reservedUntil: Date | null;

  /** The reserve attempt of the order that holds this agent reserved (see YieldAgentDto). */
  @Column({ name: 'hold_attempt', type: 'int', unsigned: true, nullable: true })
  holdAttempt: number | null;

  @Column({ name: 'updated_at', type: 'datetime', precision: 3, insert: false, update: false })
  updatedAt: Date;
}
