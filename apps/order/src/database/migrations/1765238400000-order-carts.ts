import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An order is a cart of one dark store: `store_id` and `items`, the cart's lines as JSON
 * ([{ foodId, quantity, packetIds, missing? }]: the packets it holds once decided to commit, and,
 * refused OUT_OF_STOCK, how many were missing). An existing order of one packet becomes a cart of
 * one line in the default store (id 1), its packet kept; food_id and packet_id go. NULL store and
 * an empty cart only for an order whose command never arrived (REQUEST_LOST).
 */
export class OrderCarts1765238400000 implements MigrationInterface {
  name = 'OrderCarts1765238400000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE orders ADD COLUMN store_id INT UNSIGNED NULL AFTER id, ADD COLUMN items JSON NULL AFTER store_id`);
    await runner.query(`
      UPDATE orders
         SET store_id = IF(food_id IS NULL, NULL, 1),
             items = IF(food_id IS NULL, JSON_ARRAY(),
                        JSON_ARRAY(JSON_OBJECT('foodId', food_id, 'quantity', 1,
                                               'packetIds', IF(packet_id IS NULL, JSON_ARRAY(), JSON_ARRAY(packet_id)))))`);
    await runner.query(`ALTER TABLE orders DROP COLUMN food_id, DROP COLUMN packet_id, MODIFY items JSON NOT NULL`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(
      `ALTER TABLE orders ADD COLUMN food_id INT UNSIGNED NULL AFTER id, ADD COLUMN packet_id BIGINT UNSIGNED NULL AFTER reason`,
    );
    await runner.query(`
      UPDATE orders
         SET food_id = JSON_VALUE(items, '$[0].foodId'), packet_id = JSON_VALUE(items, '$[0].packetIds[0]')`);
    await runner.query(`ALTER TABLE orders DROP COLUMN store_id, DROP COLUMN items`);
  }
}
