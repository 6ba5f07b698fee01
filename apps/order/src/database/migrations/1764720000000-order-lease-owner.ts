import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The fencing token of an order's lease: a random id of the driver that owns the order now (the
 * handler of its command, a takeover after the lease ran out, or the caller that marks it
 * delivered). Every state change by a driver is a compare-and-set on it, so a driver that lost the
 * order (a duplicated command, a process stopped past its lease) can never decide or move it.
 * NULL for orders written before it existed and for orders recorded settled from the start.
 */
export class OrderLeaseOwner1764720000000 implements MigrationInterface {
  name = 'OrderLeaseOwner1764720000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE orders ADD COLUMN lease_owner CHAR(36) CHARACTER SET ascii NULL AFTER lease_until`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE orders DROP COLUMN lease_owner');
  }
}
