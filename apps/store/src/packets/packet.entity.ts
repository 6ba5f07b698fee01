import { HoldState } from '@app/contracts';
import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity('packet')
export class Packet {
  @PrimaryGeneratedColumn({ type: 'bigint', unsigned: true })
  id: number;

  @Column({ name: 'store_id', type: 'int', unsigned: true })
  storeId: number;

  @Column({ name: 'food_id', type: 'int', unsigned: true })
  foodId: number;

  @Column({ type: 'enum', enum: HoldState, default: HoldState.FREE })
  state: HoldState;

  @Column({ name: 'order_id', type: 'char', length: 36, nullable: true })
  orderId: string | null;

  @Column({ name: 'reserved_until', type: 'datetime', precision: 3, nullable: true })
  reservedUntil: Date | null;

  @Column({ name: 'updated_at', type: 'datetime', precision: 3, insert: false, update: false })
  updatedAt: Date;
}
