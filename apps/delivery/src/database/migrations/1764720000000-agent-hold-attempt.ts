import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Which of its order's reserve attempts holds a reserved agent. The coordinator may give an agent
 * back (yield) while its order waits for a packet, then reserve again, and may get the same agent:
 * a yield names its attempt and frees the agent only while that attempt holds it, so a late copy
 * of an old yield can never free what a later attempt reserved.
 */
export class AgentHoldAttempt1764720000000 implements MigrationInterface {
  name = 'AgentHoldAttempt1764720000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE agent ADD COLUMN hold_attempt INT UNSIGNED NULL AFTER reserved_until`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE agent DROP COLUMN hold_attempt');
  }
}
