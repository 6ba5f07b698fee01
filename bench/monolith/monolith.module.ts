import { createUtcPool } from '@app/database';
import { Module } from '@nestjs/common';
import { Pool } from 'mysql2/promise';
import { OrdersController } from './orders.controller';
import { OrdersService, POOL } from './orders.service';
import { createSchema } from './schema';

/** Where the monolith keeps its one database; the database server is the services' (DB_HOST, ...). */
export interface MonolithEnv {
  database: string;
  host: string;
  port: number;
  user: string;
  password: string;
  /** Connections of its pool: the services' DB_POOL_SIZE default. */
  poolSize: number;
}

export function monolithEnv(env: NodeJS.ProcessEnv): MonolithEnv {
  if (!env.MONOLITH_DB_NAME) throw new Error('MONOLITH_DB_NAME is required');
  return {
    database: env.MONOLITH_DB_NAME,
    host: env.DB_HOST ?? '127.0.0.1',
    port: Number(env.DB_PORT ?? 3306),
    user: env.DB_USER ?? 'root',
    password: env.DB_PASSWORD ?? '',
    poolSize: Number(env.MONOLITH_POOL_SIZE ?? 10),
  };
}

/** The database (created if missing) and its schema; sessions in UTC and READ COMMITTED, as the services'. */
export async function openDatabase(env: MonolithEnv): Promise<Pool> {
  const server = createUtcPool({ host: env.host, port: env.port, user: env.user, password: env.password, connectionLimit: 1 });
  await server.query(`CREATE DATABASE IF NOT EXISTS \`${env.database}\` CHARACTER SET utf8mb4`);
  await server.end();
  const pool = createUtcPool(
    { host: env.host, port: env.port, user: env.user, password: env.password, database: env.database, connectionLimit: env.poolSize },
    { readCommitted: true },
  );
  await createSchema(pool);
  return pool;
}

/** What a user would pick instead of two-phase commit: one app, one database, one transaction per order. */
@Module({
  controllers: [OrdersController],
  providers: [OrdersService, { provide: POOL, useFactory: () => openDatabase(monolithEnv(process.env)) }],
})
export class MonolithModule {}
