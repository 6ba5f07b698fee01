import { INestApplication, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { DataSource } from 'typeorm';
import { connectUtc, ensureDatabase } from '../database';
import { DatabaseEnv } from '../database.env';

/**
 * One database-owning service's root module, started in this process against a fresh database of
 * its own on the real MariaDB (no broker: the test calls its services directly). `env` sets the
 * variables the module validates, the database name among them; TEST_NS keeps parallel runs apart.
 */
export async function startService(module: Type<unknown>, dbVariable: string, suite: string, env: Record<string, string> = {}) {
  const database = process.env.TEST_NS ? `t_${process.env.TEST_NS}_${suite}` : `t_${suite}`;
  Object.assign(process.env, { NODE_ENV: 'test', [dbVariable]: database, ...env });
  const settings = Object.assign(new DatabaseEnv(), { DB_HOST: process.env.DB_HOST ?? '127.0.0.1' });
  const admin = await connectUtc({
    host: settings.DB_HOST,
    port: settings.DB_PORT,
    user: settings.DB_USER,
    password: settings.DB_PASSWORD,
  });
  await admin.query(`DROP DATABASE IF EXISTS \`${database}\``);
  await admin.end();
  await ensureDatabase(settings, database);
  const testing = await Test.createTestingModule({ imports: [module] }).compile();
  const app: INestApplication = testing.createNestApplication({ logger: false });
  await app.init();
  return {
    app,
    dataSource: app.get(DataSource),
    /** Rows of `sql`, read outside the service's transactions. */
    rows: <T>(sql: string, params: unknown[] = []): Promise<T[]> => app.get(DataSource).query(sql, params),
    close: () => app.close(),
  };
}
