import { MigrationInterface, QueryRunner } from 'typeorm';

export class DeliverySchema1763769600000 implements MigrationInterface {
  name = 'DeliverySchema1763769600000';

  async up(runner: QueryRunner): Promise<void> {
    // order_id is unique: an agent serves one order at a time and an order has one agent.
    // The CHECK ties the columns to the state.
    await runner.query(`
      CREATE TABLE agent (
        id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
        name VARCHAR(100) NULL,
        state ENUM('FREE','RESERVED','ASSIGNED') NOT NULL DEFAULT 'FREE',
        order_id CHAR(36) CHARACTER SET ascii NULL,
        reserved_until DATETIME(3) NULL,
        updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
        UNIQUE KEY uq_agent_name (name),
        UNIQUE KEY uq_agent_order (order_id),
        KEY idx_agent_state (state, reserved_until),
        CONSTRAINT chk_agent_hold CHECK (
          (state = 'FREE') = (order_id IS NULL) AND (state = 'RESERVED') = (reserved_until IS NOT NULL))
      ) ENGINE=InnoDB`);
    // The branch barrier; see enterBarriers in libs/participant.
    await runner.query(`
      CREATE TABLE agent_barrier (
        order_id CHAR(36) CHARACTER SET ascii NOT NULL PRIMARY KEY,
        released TINYINT(1) NOT NULL DEFAULT 0,
        created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
      ) ENGINE=InnoDB`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE agent_barrier');
    await runner.query('DROP TABLE agent');
  }
}
