import { Logger } from '@nestjs/common';
import mysql2, { ConnectionOptions, Pool as CorePool, PoolOptions } from 'mysql2';
import { Connection, createConnection, createPool, Pool } from 'mysql2/promise';
import { DataSource, DataSourceOptions, EntityManager, QueryFailedError } from 'typeorm';
import { DatabaseEnv } from './database.env';

// TypeORM takes entity and migration classes as plain constructors.
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
type Classes = Function[];

/**
 * Every session runs in UTC. Reservations (`reserved_until`) and the coordinator's leases
 * (`lease_until`) are DATETIME(3) written and compared with NOW(3), and DEFAULT CURRENT_TIMESTAMP(3)
 * stamps created_at and updated_at: all of them the wall clock of the session's time zone, which
 * defaults to the server's, often SYSTEM. In a daylight-saving zone, the hour the clocks go back makes
 * every reservation and lease last up to an hour longer, and the hour they go forward expires them all
 * at once (I3, I6); and TypeORM's `timezone: 'Z'` reads DATETIME back as UTC, whatever the session
 * wrote. The server's default zone is not ours to set, so each connection sets its own session before
 * its first statement. A pool option that resets sessions on release (resetOnRelease) would undo it.
 */
const UTC_SESSION = "SET time_zone = '+00:00'";

/** Pins every connection `pool` opens, its first and each one after a reconnect, to UTC before anything else runs on it. */
function utcSessions<P extends CorePool>(pool: P): P {
  // A connection's statements run in the order they are queued, and this listener runs before the
  // pool hands the new connection out: the SET goes first. A connection that cannot take it is closed.
  pool.on('connection', (connection) => connection.query(UTC_SESSION, (err) => err && connection.destroy()));
  return pool;
}

/** One connection outside the services' pools (the checker, tests, tools), in UTC like them. */
export async function connectUtc(options: ConnectionOptions): Promise<Connection> {
  const connection = await createConnection({ ...options, timezone: 'Z' });
  try {
    await connection.query(UTC_SESSION);
    return connection;
  } catch (err) {
    connection.destroy();
    throw err;
  }
}

/** A pool outside the services (the benchmark's bound), in UTC like them. */
export function createUtcPool(options: PoolOptions): Pool {
  const pool = createPool({ ...options, timezone: 'Z' });
  utcSessions(pool.pool);
  return pool;
}

/** mysql2 as TypeORM would load it, except that each pool it makes runs its sessions in UTC. */
const mysql2InUtc = { ...mysql2, createPool: (options: PoolOptions) => utcSessions(mysql2.createPool(options)) };

/** Each service owns one database; it creates it on first start so a fresh machine needs no manual step. */
export async function ensureDatabase(env: DatabaseEnv, database: string): Promise<void> {
  const connection = await connectUtc({ host: env.DB_HOST, port: env.DB_PORT, user: env.DB_USER, password: env.DB_PASSWORD });
  try {
    await connection.query(`CREATE DATABASE IF NOT EXISTS \`${database.replace(/`/g, '')}\` CHARACTER SET utf8mb4`);
  } finally {
    await connection.end();
  }
}

export function dataSourceOptions(env: DatabaseEnv, database: string, entities: Classes, migrations: Classes): DataSourceOptions {
  return {
    type: 'mysql',
    connectorPackage: 'mysql2',
    driver: mysql2InUtc,
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
