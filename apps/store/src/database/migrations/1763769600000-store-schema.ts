import { MigrationInterface, QueryRunner } from 'typeorm';

export class StoreSchema1763769600000 implements MigrationInterface {
  name = 'StoreSchema1763769600000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE food (
        id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
        name VARCHAR(100) NOT NULL,
        created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        UNIQUE KEY uq_food_name (name)
      ) ENGINE=InnoDB`);
    // One row per physical packet. order_id is unique: one packet can never be held by two orders,
    // and one order can never hold two packets. The CHECK ties the columns to the state.
    await runner.query(`
      CREATE TABLE packet (
        id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
        food_id INT UNSIGNED NOT NULL,
        state ENUM('FREE','RESERVED','ASSIGNED') NOT NULL DEFAULT 'FREE',
        order_id CHAR(36) CHARACTER SET ascii NULL,
        reserved_until DATETIME(3) NULL,
        updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
        UNIQUE KEY uq_packet_order (order_id),
        KEY idx_packet_pick (food_id, state),
        KEY idx_packet_expiry (state, reserved_until),
        CONSTRAINT fk_packet_food FOREIGN KEY (food_id) REFERENCES food (id),
        CONSTRAINT chk_packet_hold CHECK (
          (state = 'FREE') = (order_id IS NULL) AND (state = 'RESERVED') = (reserved_until IS NOT NULL))
      ) ENGINE=InnoDB`);
    // The branch barrier: one row per order this store has seen. Reserve and release of one order
    // both lock it, so they run one after the other; released = 1 refuses a reserve that arrives late.
    await runner.query(`
      CREATE TABLE packet_barrier (
        order_id CHAR(36) CHARACTER SET ascii NOT NULL PRIMARY KEY,
        released TINYINT(1) NOT NULL DEFAULT 0,
        created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
      ) ENGINE=InnoDB`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE packet_barrier');
    await runner.query('DROP TABLE packet');
    await runner.query('DROP TABLE food');
  }
}
