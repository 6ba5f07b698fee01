import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Dark stores. Every packet belongs to one (store, food); the catalogue of foods stays shared. An
 * existing database keeps every packet, in the default store (id 1) that the single-food API acts
 * on. An order holds the packets of its cart, several now: order_id is no longer unique.
 * packet_count is kept per (store, food). The picking index leads with the store, so a reserve
 * scans only its store's free packets of the food; food_id keeps an index of its own for its
 * foreign key. As with PacketCount, run it with no store instance of the version before running.
 */
export class DarkStores1765238400000 implements MigrationInterface {
  name = 'DarkStores1765238400000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE dark_store (
        id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
        name VARCHAR(100) NOT NULL,
        created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        UNIQUE KEY uq_dark_store_name (name)
      ) ENGINE=InnoDB`);
    await runner.query(`INSERT INTO dark_store (id, name) VALUES (1, 'Default')`);
    await runner.query(`
      ALTER TABLE packet
        ADD COLUMN store_id INT UNSIGNED NOT NULL DEFAULT 1 AFTER id,
        ADD KEY idx_packet_food (food_id),
        ADD KEY idx_packet_stock (store_id, food_id, state),
        ADD KEY idx_packet_order (order_id),
        ADD CONSTRAINT fk_packet_store FOREIGN KEY (store_id) REFERENCES dark_store (id)`);
    await runner.query(`ALTER TABLE packet DROP INDEX idx_packet_pick, DROP INDEX uq_packet_order, ALTER COLUMN store_id DROP DEFAULT`);
    await runner.query(`
      ALTER TABLE packet_count
        ADD COLUMN store_id INT UNSIGNED NOT NULL DEFAULT 1 FIRST,
        ADD KEY idx_packet_count_food (food_id),
        ADD CONSTRAINT fk_packet_count_store FOREIGN KEY (store_id) REFERENCES dark_store (id)`);
    await runner.query(
      `ALTER TABLE packet_count DROP PRIMARY KEY, ADD PRIMARY KEY (store_id, food_id), ALTER COLUMN store_id DROP DEFAULT`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DELETE FROM packet_count WHERE store_id <> 1`);
    await runner.query(`ALTER TABLE packet_count DROP PRIMARY KEY, ADD PRIMARY KEY (food_id)`);
    await runner.query(
      `ALTER TABLE packet_count DROP FOREIGN KEY fk_packet_count_store, DROP INDEX idx_packet_count_food, DROP COLUMN store_id`,
    );
    await runner.query(`DELETE FROM packet WHERE store_id <> 1`);
    await runner.query(`
      ALTER TABLE packet
        ADD UNIQUE KEY uq_packet_order (order_id), ADD KEY idx_packet_pick (food_id, state),
        DROP FOREIGN KEY fk_packet_store, DROP INDEX idx_packet_order, DROP INDEX idx_packet_stock, DROP INDEX idx_packet_food,
        DROP COLUMN store_id`);
    await runner.query('DROP TABLE dark_store');
  }
}
