import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One row per Idempotency-Key of POST /foods and POST /foods/{foodId}/packets (the gateway mints a
 * key for a request that has none), written in the transaction of the addition itself: a retry
 * with the key is answered `reply` and adds nothing (see once() in libs/database).
 */
export class StockAddition1765152000001 implements MigrationInterface {
  name = 'StockAddition1765152000001';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE stock_addition (
        idempotency_key VARCHAR(100) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
        request_hash CHAR(64) CHARACTER SET ascii NOT NULL,
        reply TEXT NULL,
        created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
      ) ENGINE=InnoDB`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE stock_addition');
  }
}
