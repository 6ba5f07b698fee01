import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The client's Idempotency-Key of POST /orders, unique across all orders: the database, not a
 * gateway's memory, decides which of two racing requests with one key (even on two gateways) made
 * the order. NULL for orders without a key; a UNIQUE index allows any number of NULLs.
 */
export class OrderIdempotencyKey1764028800000 implements MigrationInterface {
  name = 'OrderIdempotencyKey1764028800000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      ALTER TABLE orders
        ADD COLUMN idempotency_key VARCHAR(100) CHARACTER SET ascii COLLATE ascii_bin NULL,
        ADD UNIQUE KEY uq_orders_idempotency_key (idempotency_key)`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE orders DROP INDEX uq_orders_idempotency_key, DROP COLUMN idempotency_key');
  }
}
