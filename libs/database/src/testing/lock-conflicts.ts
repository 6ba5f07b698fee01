import { MysqlQueryRunner } from 'typeorm/driver/mysql/MysqlQueryRunner';
import { retryableCode } from '../database';

/**
 * Watches the statements of every service in this process for deadlocks and lock wait timeouts,
 * which transaction() retries out of sight: a test of lock order asserts that none happened. The
 * statements still run on the real database; failures are only noted on their way to the caller.
 */
export function watchLockConflicts(): { conflicts: string[]; stop: () => void } {
  const conflicts: string[] = [];
  const query = MysqlQueryRunner.prototype.query;
  const spy = jest.spyOn(MysqlQueryRunner.prototype, 'query').mockImplementation(async function (this: MysqlQueryRunner, ...args) {
    try {
      return await query.apply(this, args);
    } catch (err) {
      const code = retryableCode(err);
      if (code === 'ER_LOCK_DEADLOCK' || code === 'ER_LOCK_WAIT_TIMEOUT') conflicts.push(code);
      throw err;
    }
  });
  return { conflicts, stop: () => spy.mockRestore() };
}
