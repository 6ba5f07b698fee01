import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What GET /foods reads instead of the packet rows: per food, how many packets exist and how many
 * are assigned, kept by the statements that change them, in the same transactions (additions add
 * to `total`, assign and release move `assigned`). Reserved packets are few (only orders deciding
 * hold them) and are counted from idx_packet_pick; free is what remains. So a listing costs the same
 * at 10M packets as at 1,000, and scripts/check.ts (I5) proves the counts equal the rows.
 * Keyed by food now; keyed by dark store and food once packets are.
 *
 * The backfill counts the rows of a store at rest: stop every store instance of the version before
 * this one first, or counts written meanwhile by them are missed.
 */
export class PacketCount1765152000000 implements MigrationInterface {
  name = 'PacketCount1765152000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE packet_count (
        food_id INT UNSIGNED NOT NULL PRIMARY KEY,
        total BIGINT UNSIGNED NOT NULL DEFAULT 0,
        assigned BIGINT UNSIGNED NOT NULL DEFAULT 0,
        CONSTRAINT fk_packet_count_food FOREIGN KEY (food_id) REFERENCES food (id),
        CONSTRAINT chk_packet_count CHECK (assigned <= total)
      ) ENGINE=InnoDB`);
    await runner.query(`
      INSERT INTO packet_count (food_id, total, assigned)
      SELECT f.id, COUNT(p.id), COUNT(CASE WHEN p.state = 'ASSIGNED' THEN 1 END)
        FROM food f LEFT JOIN packet p ON p.food_id = f.id
       GROUP BY f.id`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE packet_count');
  }
}
