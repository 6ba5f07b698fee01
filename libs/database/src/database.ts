import { ErrorCode } from '@app/contracts';
import { ContractException } from '@app/platform';
import { Logger } from '@nestjs/common';
import mysql2, { ConnectionOptions, Pool as CorePool, PoolOptions } from 'mysql2';
import { Connection, createConnection, createPool, Pool } from 'mysql2/promise';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource, DataSourceOptions, QueryFailedError } from 'typeorm';
import { DatabaseEnv } from './database.env';
import type { Queryable } from './transaction';

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
/**
 * The services' sessions also run READ COMMITTED: SKIP LOCKED under REPEATABLE READ takes gap locks
 * that deadlock concurrent reservations. Set once per connection rather than before every
 * transaction (as TypeORM's transaction(isolation) does): one round trip fewer per reserve. No
 * statement of the services reads across statements, so none minds.
 */
const READ_COMMITTED_SESSION = 'SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED';

/** Runs `statements` on every connection `pool` opens, its first and each one after a reconnect, before anything else. */
function setUpSessions<P extends CorePool>(pool: P, statements: string[]): P {
  // A connection's statements run in the order they are queued, and this listener runs before the
  // pool hands the new connection out: the SETs go first. A connection that cannot take them is closed.
  pool.on('connection', (connection) => {
    for (const statement of statements) connection.query(statement, (err) => err && connection.destroy());
  });
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

/**
 * A pool outside the services (the benchmark's bound and monolith), in UTC like them; with
 * `readCommitted`, its sessions also run READ COMMITTED, as the services' do.
 */
export function createUtcPool(options: PoolOptions, { readCommitted = false } = {}): Pool {
  const pool = createPool({ ...options, timezone: 'Z' });
  setUpSessions(pool.pool, readCommitted ? [UTC_SESSION, READ_COMMITTED_SESSION] : [UTC_SESSION]);
  return pool;
}

/** mysql2 as TypeORM would load it, except that each pool it makes sets up its sessions (UTC, READ COMMITTED). */
const mysql2ForServices = {
  ...mysql2,
  createPool: (options: PoolOptions) => setUpSessions(mysql2.createPool(options), [UTC_SESSION, READ_COMMITTED_SESSION]),
};

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
    driver: mysql2ForServices,
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
    // transaction() sends the statements of a round trip as one message (see transaction.ts). Every
    // statement's values go through placeholders, so no value can add a statement of its own.
    extra: { enableKeepAlive: true, multipleStatements: true },
  };
}

/**
 * Runs pending migrations; a named lock keeps two instances starting together from racing on DDL.
 * Each migration runs in its own transaction, so a try cut short by a dropped connection is simply
 * tried again (retryAtBoot): what committed stays applied, the rest runs next time.
 */
export function runMigrations(dataSource: DataSource, lockName: string): Promise<void> {
  const logger = new Logger('Migrations');
  return retryAtBoot(`migrations under lock ${lockName}`, logger, async () => {
    const runner = dataSource.createQueryRunner();
    await runner.connect();
    try {
      const [{ acquired }]: { acquired: number | null }[] = await runner.query('SELECT GET_LOCK(?, 60) AS acquired', [lockName]);
      if (Number(acquired) !== 1) throw new Error(`Could not take migration lock ${lockName} within 60 s`);
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      if (applied.length > 0) logger.log(`Applied ${applied.map((m) => m.name).join(', ')}`);
    } finally {
      await runner.query('SELECT RELEASE_LOCK(?)', [lockName]).catch(() => undefined);
      await runner.release();
    }
  });
}

/** How long a start-up step waits for a database out of reach before the start-up gives up. */
const BOOT_PATIENCE_MS = 60_000;

/**
 * A start-up step that needs the database, tried again while the database is out of reach (a
 * restart, killed connections) for up to a minute, with one warning line per failed try; any other
 * error, or the minute running out, fails the start-up.
 */
export async function retryAtBoot<T>(step: string, logger: { warn(message: string): void }, work: () => Promise<T>): Promise<T> {
  const giveUpAt = Date.now() + BOOT_PATIENCE_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      const code = retryableCode(err);
      if (!code || Date.now() >= giveUpAt) throw err;
      const pause = Math.min(250 * 2 ** (attempt - 1), 5_000);
      logger.warn(`${step}: try ${attempt} failed (${code}); trying again in ${pause} ms`);
      await sleep(pause);
    }
  }
}

/** True for a unique-key violation: the row (a food name, an order id) exists already. */
export function isDuplicateKey(err: unknown): boolean {
  return err instanceof QueryFailedError && (err.driverError as { code?: string }).code === 'ER_DUP_ENTRY';
}

/** Inserts `rows` (values of `columns`, in order) into `table`, in multi-row statements of at most `batch` rows. */
export async function insertRows(manager: Queryable, table: string, columns: string[], rows: unknown[][], batch = 10_000): Promise<void> {
  const row = `(${columns.map(() => '?').join(', ')})`;
  for (let start = 0; start < rows.length; start += batch) {
    const slice = rows.slice(start, start + batch);
    await manager.query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${`${row},`.repeat(slice.length - 1)}${row}`, slice.flat());
  }
}

/**
 * Errors after which a statement or transaction may simply run again: InnoDB rolled it back
 * (deadlock, lock wait timeout, a killed query), or its connection dropped or could not be had
 * (server restart, KILL, too many connections), so it either never committed or did.
 */
const RETRYABLE = new Set([
  'ER_LOCK_DEADLOCK',
  'ER_LOCK_WAIT_TIMEOUT',
  'ER_QUERY_INTERRUPTED',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CONNECTION_KILLED',
  'ER_SERVER_SHUTDOWN',
  'ER_CON_COUNT_ERROR',
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
]);

/**
 * Errors that name no retryable code but are one: a statement sent on a connection already closed
 * under it (mysql2 gives it no code), and MariaDB's answer when a session is killed while it opens
 * a table with a trigger (orders: its log trigger), ER_PARSE_ERROR "Unknown trigger has an error in
 * its body: 'Query was empty'" (seen under bursts of KILL; the trigger itself is fine).
 */
const TRANSIENT_MESSAGES: [RegExp, string][] = [
  [/connection is in closed state/, 'CONNECTION_CLOSED'],
  [/^Unknown trigger has an error in its body: 'Query was empty'/, 'TRIGGER_OPEN_KILLED'],
];

/** Tries of one unit of work; the pauses between them double from 10 ms to 500 ms, about 1.5 s in all. */
const TRIES = 8;

/** The driver's code of a database error: the connection or InnoDB error after which work may run again. */
export function retryableCode(err: unknown): string | undefined {
  const error = err as { code?: string; message?: string; driverError?: { code?: string; message?: string } };
  const code = error?.driverError?.code ?? error?.code;
  if (code && RETRYABLE.has(code)) return code;
  const message = error?.driverError?.message ?? error?.message ?? '';
  return TRANSIENT_MESSAGES.find(([pattern]) => pattern.test(message))?.[1];
}

/**
 * Runs `work` again after a retryable error. Under load, reservations scanning the state index and
 * assignments updating it lock rows in different orders and InnoDB rolls one back: a normal event,
 * not a failure; so is a pooled connection killed or dropped. Running again is safe even when a
 * dropped connection hid a commit, because every unit of work here is idempotent: a read, a write
 * keyed by order id (reserve, assign, release) or by idempotency key, or a compare-and-set (the
 * coordinator's log). When the database stays out of reach through every try the caller gets
 * SERVICE_UNAVAILABLE, a 503 at the gateway, never an INTERNAL 500: the work may be asked again.
 */
export async function withRetries<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      const code = retryableCode(err);
      if (!code) throw err;
      if (attempt >= TRIES)
        throw new ContractException(ErrorCode.SERVICE_UNAVAILABLE, `The database could not be reached (${code}); try again`);
      await sleep(Math.min(10 * 2 ** (attempt - 1), 500) * (0.5 + Math.random()));
    }
  }
}
