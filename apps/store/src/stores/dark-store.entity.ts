import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A dark store: the packets of its foods and, in delivery, its agents serve the orders placed with it. */
@Entity('dark_store')
export class DarkStore {
  @PrimaryGeneratedColumn({ unsigned: true })
  id: number;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  @Column({ name: 'created_at', type: 'datetime', precision: 3, insert: false, update: false })
  createdAt: Date;
}
