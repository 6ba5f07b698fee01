import { MysqlQueryRunner } from 'typeorm/driver/mysql/MysqlQueryRunner';

/**
 * Counts the messages the services in this process send to MariaDB: every statement, or statements
 * sent together (transaction()), goes through one call of a query runner's query. Each is one round
 * trip; the test that counts them asserts how many a unit of work costs.
 */
export function countRoundTrips(): { count: () => number; stop: () => void } {
  const spy = jest.spyOn(MysqlQueryRunner.prototype, 'query');
  return { count: () => spy.mock.calls.length, stop: () => spy.mockRestore() };
}
