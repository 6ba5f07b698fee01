import { Logger } from '@nestjs/common';
import { createConnection } from 'mysql2/promise';
import { DataSource, DataSourceOptions, EntityManager, QueryFailedError } from 'typeorm';
import { DatabaseEnv } from './database.env';

// TypeORM takes entity and migration classes as plain constructors.
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
type Classes = Function[];

/** Each service owns one database; it creates it on first start so a fresh machine needs no manual step. */
export async function ensureDatabase(env: DatabaseEnv, database: string): Promise<void> {
  const connection = await createConnection({
    host: env.DB_HOST,
    port: env.DB_PORT,
    user: env.DB_USER,
    password: env.DB_PASSWORD,
  });
  try {
    await connection.query(`CREATE DATABASE IF NOT EXISTS \`${database.replace(/`/g, '')}\` CHARACTER SET utf8mb4`);
  } finally {
    await connection.end();
  }
}

export function dataSourceOptions(env: DatabaseEnv, database: string, entities: Classes, migrations: Classes): DataSourceOptions {
  return {
    type: 'mysql',
    host: env.DB_HOST,
    port: env.DB_PORT,
    username: env.DB_USER,
    password: env.DB_PASSWORD,
    database,
    entities,
    migrations,
    // Schemas change only through migrations, run under a lock at start-up (runMigrations below).
    synchronize: false,
    migrationsRun: false,
    timezone: 'Z',
    poolSize: env.DB_POOL_SIZE,
    supportBigNumbers: true,
    bigNumberStrings: false,
    extra: { enableKeepAlive: true },
  };
}

/** Runs pending migrations; a named lock keeps two instances starting together from racing on DDL. */
export async function runMigrations(dataSource: DataSource, lockName: string): Promise<void> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    const [{ acquired }] = await runner.query('SELECT GET_LOCK(?, 60) AS acquired', [lockName]);
    if (Number(acquired) !== 1) throw new Error(`Could not take migration lock ${lockName} within 60 s`);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    if (applied.length > 0) new Logger('Migrations').log(`Applied ${applied.map((m) => m.name).join(', ')}`);
  } finally {
    await runner.query('SELECT RELEASE_LOCK(?)', [lockName]).catch(() => undefined);
    await runner.release();
  }
}

/** True for a unique-key violation: the row (a food name, an order id) exists already. */
export function isDuplicateKey(err: unknown): boolean {
  return err instanceof QueryFailedError && (err.driverError as { code?: string }).code === 'ER_DUP_ENTRY';
}

/** Inserts one row per value into `table`.`column`, in multi-row statements of at most `batch` rows. */
export async function insertRows(manager: EntityManager, table: string, column: string, values: unknown[], batch = 10_000): Promise<void> {
  for (let start = 0; start < values.length; start += batch) {
    const rows = values.slice(start, start + batch);
    await manager.query(`INSERT INTO ${table} (${column}) VALUES ${'(?),'.repeat(rows.length - 1)}(?)`, rows);
  }
}

/**
 * Errors after which a transaction may simply run again: InnoDB rolled it back (deadlock, lock wait
 * timeout), or its connection dropped (server restart, KILL) so it either never committed or did.
 */
const RETRYABLE = new Set([
  'ER_LOCK_DEADLOCK',
  'ER_LOCK_WAIT_TIMEOUT',
  'PROTOCOL_CONNECTION_LOST',
  'ER_CONNECTION_KILLED',
  'ER_SERVER_SHUTDOWN',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
]);
const TRANSACTION_TRIES = 5;

/**
 * Runs `work` again after a retryable error. Under load, reservations scanning the state index and
 * assignments updating it lock rows in different orders and InnoDB rolls one back: a normal event,
 * not a failure. Running again is safe even when a dropped connection hid a commit, because every
 * write here is idempotent: keyed by order id (reserve, assign, release) or a compare-and-set on the
 * order's state (the coordinator's log).
 */
export async function withRetries<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      const error = err as { code?: string; driverError?: { code?: string } };
      const code = error.driverError?.code ?? error.code;
      if (!code || !RETRYABLE.has(code) || attempt >= TRANSACTION_TRIES) throw err;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
    }
  }
}

/**
 * Pooled connections already switched to READ COMMITTED (mysql2 reuses the connection object; a
 * reconnect makes a new one). Other statements on these connections run in READ COMMITTED too,
 * which none of them minds: none reads across statements. A pool option that resets sessions on
 * release (changeUser) would undo the switch behind this set's back; none is used.
 */
const readCommitted = new WeakSet<object>();

/**
 * One READ COMMITTED transaction, with retries: SKIP LOCKED under REPEATABLE READ takes gap locks
 * that deadlock concurrent reservations. Each pooled connection is switched to READ COMMITTED once,
 * for its session, rather than before every transaction as TypeORM's transaction(isolation) does:
 * one round trip fewer per reserve, on the hot path of every order.
 */
export function transaction<T>(dataSource: DataSource, work: (manager: EntityManager) => Promise<T>): Promise<T> {
  return withRetries(async () => {
    const runner = dataSource.createQueryRunner();
    try {
      const connection = (await runner.connect()) as object;
      if (!readCommitted.has(connection)) {
        await runner.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
        readCommitted.add(connection);
      }
      await runner.startTransaction();
      try {
        const result = await work(runner.manager);
        await runner.commitTransaction();
        return result;
      } catch (err) {
        if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
        throw err;
      }
    } finally {
      await runner.release();
    }
  });
}
