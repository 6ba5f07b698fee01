import { Logger } from '@nestjs/common';
import { createConnection } from 'mysql2/promise';
import { DataSource, DataSourceOptions, EntityManager } from 'typeorm';
import { DatabaseEnv } from '../config/env';

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

export function dataSourceOptions(
  env: DatabaseEnv,
  database: string,
  entities: Classes,
  migrations: Classes,
): DataSourceOptions {
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

/** MySQL errors after which the whole transaction was rolled back and may simply run again. */
const RETRYABLE = new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT']);
const TRANSACTION_TRIES = 5;

/**
 * One READ COMMITTED transaction, run again when InnoDB picks it as a deadlock victim. Under load,
 * reservations scanning the state index and assignments updating it lock the same rows in different
 * orders, and InnoDB resolves that by rolling one back: a normal event, not a failure.
 */
export async function transaction<T>(dataSource: DataSource, work: (manager: EntityManager) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await dataSource.transaction('READ COMMITTED', work);
    } catch (err) {
      const code = (err as { driverError?: { code?: string } }).driverError?.code;
      if (!code || !RETRYABLE.has(code) || attempt >= TRANSACTION_TRIES) throw err;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
    }
  }
}
