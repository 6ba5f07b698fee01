import { DataSource } from 'typeorm';
import { connectUtc, dataSourceOptions, ensureDatabase } from './database';
import { DatabaseEnv } from './database.env';
import { countRoundTrips } from './testing/round-trips';
import { transaction } from './transaction';

/**
 * transaction() against the real MariaDB: the statements of a unit of work in as few round trips as
 * their results allow, in the order issued, all or nothing.
 */

const database = process.env.TEST_NS ? `t_${process.env.TEST_NS}_unit_tx` : 't_unit_tx';
// One connection, so what a failed transaction leaves on its session is what the next one finds.
const env = Object.assign(new DatabaseEnv(), { DB_HOST: process.env.DB_HOST ?? '127.0.0.1', DB_POOL_SIZE: 1 });
let dataSource: DataSource;

beforeAll(async () => {
  const admin = await connectUtc({ host: env.DB_HOST, port: env.DB_PORT, user: env.DB_USER, password: env.DB_PASSWORD });
  await admin.query(`DROP DATABASE IF EXISTS \`${database}\``);
  await admin.end();
  await ensureDatabase(env, database);
  dataSource = await new DataSource(dataSourceOptions(env, database, [], [])).initialize();
  await dataSource.query('CREATE TABLE t (id INT PRIMARY KEY, v INT NOT NULL)');
});
afterAll(() => dataSource?.destroy());
beforeEach(() => dataSource.query('DELETE FROM t'));

const rows = () => dataSource.query<{ id: number; v: number }[]>('SELECT id, v FROM t ORDER BY id');

describe('transaction', () => {
  it('sends BEGIN with the first statement and each deferred statement with the next query or with COMMIT, in the order issued', async () => {
    const trips = countRoundTrips();
    try {
      const seen = await transaction(dataSource, async (tx) => {
        await tx.query('INSERT INTO t (id, v) VALUES (?, ?), (?, ?)', [1, 10, 2, 20]);
        tx.defer('UPDATE t SET v = v + 1 WHERE id = ?', [1]);
        const [row] = await tx.query<{ v: number }[]>('SELECT v FROM t WHERE id = ? FOR UPDATE', [1]);
        tx.defer('UPDATE t SET v = ? WHERE id = ?', [row.v * 2, 2]);
        tx.defer('INSERT INTO t (id, v) VALUES (?, ?)', [3, 30]);
        return row.v;
      });

      expect(seen).toBe(11);
      // START + INSERT; UPDATE + SELECT; UPDATE + INSERT + COMMIT.
      expect(trips.count()).toBe(3);
      expect(await rows()).toEqual([
        { id: 1, v: 11 },
        { id: 2, v: 22 },
        { id: 3, v: 30 },
      ]);
    } finally {
      trips.stop();
    }
  });

  it('answers the results of statements sent together in order, after what was deferred before them', async () => {
    const results = await transaction(dataSource, async (tx) => {
      tx.defer('INSERT INTO t (id, v) VALUES (?, ?)', [1, 10]);
      return tx.queryAll([
        ['SELECT v FROM t WHERE id = ?', [1]],
        ['SELECT COUNT(*) AS n FROM t WHERE id > ?', [1]],
        ['UPDATE t SET v = ? WHERE id = ?', [12, 1]],
      ]);
    });

    expect(results).toHaveLength(3);
    expect(results[0]).toEqual([{ v: 10 }]);
    expect(Number((results[1] as { n: number }[])[0].n)).toBe(0);
    expect((results[2] as { affectedRows: number }).affectedRows).toBe(1);
    expect(await rows()).toEqual([{ id: 1, v: 12 }]);
  });

  it('keeps nothing of a transaction whose deferred statement fails at COMMIT, runs nothing after it, and leaves its session out of any transaction', async () => {
    await dataSource.query('INSERT INTO t (id, v) VALUES (?, ?)', [2, 20]);

    const failed = transaction(dataSource, async (tx) => {
      await tx.query('INSERT INTO t (id, v) VALUES (?, ?)', [1, 10]);
      tx.defer('INSERT INTO t (id, v) VALUES (?, ?)', [2, 99]);
      tx.defer('INSERT INTO t (id, v) VALUES (?, ?)', [3, 30]);
    });

    await expect(failed).rejects.toThrow(/Duplicate entry '2'/);
    expect(await rows()).toEqual([{ id: 2, v: 20 }]);
    // The pool has one connection: the one the failed transaction used.
    expect(await dataSource.query('SELECT @@in_transaction AS open')).toEqual([{ open: 0 }]);
  });

  it('fails the whole transaction when a deferred statement fails, even when the work catches the error of the query it rode with', async () => {
    await dataSource.query('INSERT INTO t (id, v) VALUES (?, ?)', [2, 20]);

    const failed = transaction(dataSource, async (tx) => {
      await tx.query('INSERT INTO t (id, v) VALUES (?, ?)', [1, 10]);
      tx.defer('INSERT INTO t (id, v) VALUES (?, ?)', [2, 99]);
      // As a caller that expects a duplicate key of its own statement would: it cannot tell whose error it is.
      await tx.query('INSERT INTO t (id, v) VALUES (?, ?)', [4, 40]).catch(() => undefined);
      tx.defer('INSERT INTO t (id, v) VALUES (?, ?)', [3, 30]);
    });

    await expect(failed).rejects.toThrow(/Duplicate entry '2'/);
    expect(await rows()).toEqual([{ id: 2, v: 20 }]);
    expect(await dataSource.query('SELECT @@in_transaction AS open')).toEqual([{ open: 0 }]);
  });

  it('rolls back what was sent when the work itself throws', async () => {
    const failed = transaction(dataSource, async (tx) => {
      await tx.query('INSERT INTO t (id, v) VALUES (?, ?)', [1, 10]);
      tx.defer('INSERT INTO t (id, v) VALUES (?, ?)', [2, 20]);
      throw new Error('refused');
    });

    await expect(failed).rejects.toThrow('refused');
    expect(await rows()).toEqual([]);
    expect(await dataSource.query('SELECT @@in_transaction AS open')).toEqual([{ open: 0 }]);
  });

  it('sends nothing for work that sends nothing, and one round trip for work that only defers', async () => {
    const trips = countRoundTrips();
    try {
      expect(await transaction(dataSource, () => Promise.resolve('none'))).toBe('none');
      expect(trips.count()).toBe(0);

      await transaction(dataSource, (tx) => {
        tx.defer('INSERT INTO t (id, v) VALUES (?, ?)', [1, 10]);
        return Promise.resolve();
      });
      expect(trips.count()).toBe(1);
      expect(await rows()).toEqual([{ id: 1, v: 10 }]);
    } finally {
      trips.stop();
    }
  });
});
