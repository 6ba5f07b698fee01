import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every agent works from one dark store (store_id, as the store service numbers them) and serves
 * only its orders (I8). An existing database keeps every agent, in the default store (id 1).
 * agent_count has one row per store that has agents. The picking index leads with the store, so a
 * reserve scans only its store's agents. As with AgentCount, run it with no delivery instance of
 * the version before running.
 */
export class AgentStores1765238400000 implements MigrationInterface {
  name = 'AgentStores1765238400000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      ALTER TABLE agent
        ADD COLUMN store_id INT UNSIGNED NOT NULL DEFAULT 1 AFTER id,
        ADD KEY idx_agent_pick (store_id, state, reserved_until)`);
    await runner.query(`ALTER TABLE agent ALTER COLUMN store_id DROP DEFAULT`);
    await runner.query(`ALTER TABLE agent_count DROP CONSTRAINT chk_agent_count`);
    await runner.query(`ALTER TABLE agent_count CHANGE id store_id INT UNSIGNED NOT NULL`);
    await runner.query(`ALTER TABLE agent_count ADD CONSTRAINT chk_agent_count CHECK (assigned <= total)`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DELETE FROM agent_count WHERE store_id <> 1`);
    await runner.query(`ALTER TABLE agent_count DROP CONSTRAINT chk_agent_count`);
    await runner.query(`ALTER TABLE agent_count CHANGE store_id id TINYINT UNSIGNED NOT NULL`);
    await runner.query(`ALTER TABLE agent_count ADD CONSTRAINT chk_agent_count CHECK (id = 1 AND assigned <= total)`);
    await runner.query(`DELETE FROM agent WHERE store_id <> 1`);
    await runner.query(`ALTER TABLE agent DROP INDEX idx_agent_pick, DROP COLUMN store_id`);
  }
}
