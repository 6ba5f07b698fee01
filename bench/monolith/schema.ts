import { Pool } from 'mysql2/promise';

/**
 * The monolith's whole schema, in one database: packets of a (store, food) and agents of a store,
 * free while `order_id` is NULL, and the orders. Plain SQL created at start: it is a fixture.
 */
export async function createSchema(pool: Pool): Promise<void> {
  await pool.query(`CREATE TABLE IF NOT EXISTS packet (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    store_id INT UNSIGNED NOT NULL,
    food_id INT UNSIGNED NOT NULL,
    order_id CHAR(36) CHARACTER SET ascii NULL,
    KEY idx_free (store_id, food_id, order_id)) ENGINE=InnoDB`);
  await pool.query(`CREATE TABLE IF NOT EXISTS agent (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    store_id INT UNSIGNED NOT NULL,
    order_id CHAR(36) CHARACTER SET ascii NULL,
    UNIQUE KEY uq_order (order_id),
    KEY idx_free (store_id, order_id)) ENGINE=InnoDB`);
  await pool.query(`CREATE TABLE IF NOT EXISTS orders (
    id CHAR(36) CHARACTER SET ascii NOT NULL PRIMARY KEY,
    store_id INT UNSIGNED NOT NULL,
    agent_id BIGINT UNSIGNED NOT NULL,
    items JSON NOT NULL,
    created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)) ENGINE=InnoDB`);
}

/** Rows per INSERT while seeding. */
const SEED_ROWS = 10_000;

/** `packets` free packets of each food of each store, and `agents` free agents of each store, under the main run's ids. */
export async function seedStock(
  pool: Pool,
  stores: { storeId: number; foodIds: number[] }[],
  packets: number,
  agents: number,
): Promise<void> {
  for (const { storeId, foodIds } of stores) {
    for (const foodId of foodIds) await insertRows(pool, 'packet (store_id, food_id)', `(${storeId}, ${foodId})`, packets);
    await insertRows(pool, 'agent (store_id)', `(${storeId})`, agents);
  }
}

async function insertRows(pool: Pool, into: string, row: string, count: number): Promise<void> {
  for (let left = count; left > 0; left -= SEED_ROWS) {
    await pool.query(`INSERT INTO ${into} VALUES ${Array(Math.min(left, SEED_ROWS)).fill(row).join(',')}`);
  }
}
