import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The log row of each state an order enters is written by the database itself, in the same
 * statement as the state change: a transition is one UPDATE (one round trip, atomic on its own)
 * instead of a transaction of four. Lease renewals change no state and log nothing.
 */
export class OrderLogTriggers1763856000000 implements MigrationInterface {
  name = 'OrderLogTriggers1763856000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TRIGGER orders_log_insert AFTER INSERT ON orders FOR EACH ROW
        INSERT INTO order_log (order_id, state, detail) VALUES (NEW.id, NEW.state, NEW.reason)`);
    await runner.query(`
      CREATE TRIGGER orders_log_update AFTER UPDATE ON orders FOR EACH ROW
        IF NEW.state <> OLD.state THEN
          INSERT INTO order_log (order_id, state, detail) VALUES (NEW.id, NEW.state, NEW.reason);
        END IF`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TRIGGER orders_log_update');
    await runner.query('DROP TRIGGER orders_log_insert');
  }
}
