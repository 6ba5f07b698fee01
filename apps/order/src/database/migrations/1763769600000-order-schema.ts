import { MigrationInterface, QueryRunner } from 'typeorm';

const STATES = `'RESERVING','COMMITTING','PLACED','ABORTING','NOT_PLACED','DELIVERING','DELIVERED'`;

export class OrderSchema1763769600000 implements MigrationInterface {
  name = 'OrderSchema1763769600000';

  async up(runner: QueryRunner): Promise<void> {
    // The coordinator's durable state (food_id is NULL only for an order recorded as REQUEST_LOST). lease_until says how long the instance driving an order owns
    // it; recovery takes over orders in a non-final state whose lease ran out (idx_orders_recovery).
    await runner.query(`
      CREATE TABLE orders (
        id CHAR(36) CHARACTER SET ascii NOT NULL PRIMARY KEY,
        food_id INT UNSIGNED NULL,
        state ENUM(${STATES}) NOT NULL,
        reason VARCHAR(32) NULL,
        packet_id BIGINT UNSIGNED NULL,
        agent_id INT UNSIGNED NULL,
        lease_until DATETIME(3) NOT NULL,
        created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
        KEY idx_orders_recovery (state, lease_until)
      ) ENGINE=InnoDB`);
    // The transaction log: one row per state an order entered, written in the same transaction.
    await runner.query(`
      CREATE TABLE order_log (
        id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
        order_id CHAR(36) CHARACTER SET ascii NOT NULL,
        state ENUM(${STATES}) NOT NULL,
        detail VARCHAR(255) NULL,
        created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        KEY idx_order_log_order (order_id, id)
      ) ENGINE=InnoDB`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE order_log');
    await runner.query('DROP TABLE orders');
  }
}
