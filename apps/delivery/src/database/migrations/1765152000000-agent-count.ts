import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What GET /agents reads instead of the agent rows: how many agents exist and how many are
 * assigned, kept by the statements that change them, in the same transactions (additions add to
 * `total`, assign, release and complete move `assigned`). Reserved agents are few and counted from
 * idx_agent_state; free is what remains (see PacketCount in the store). One row today (`id` 1);
 * one per dark store once agents belong to one.
 *
 * The backfill counts the rows of a delivery service at rest: stop every delivery instance of the
 * version before this one first.
 */
export class AgentCount1765152000000 implements MigrationInterface {
  name = 'AgentCount1765152000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE agent_count (
        id TINYINT UNSIGNED NOT NULL PRIMARY KEY,
        total BIGINT UNSIGNED NOT NULL DEFAULT 0,
        assigned BIGINT UNSIGNED NOT NULL DEFAULT 0,
        CONSTRAINT chk_agent_count CHECK (id = 1 AND assigned <= total)
      ) ENGINE=InnoDB`);
    await runner.query(`
      INSERT INTO agent_count (id, total, assigned)
      SELECT 1, COUNT(*), COUNT(CASE WHEN state = 'ASSIGNED' THEN 1 END) FROM agent`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE agent_count');
  }
}
