import { connectUtc } from '@app/database';
import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MonolithEnv, monolithEnv, openDatabase } from './monolith.module';
import { seedStock } from './schema';

/** The monolith as the bench runs it: its own database seeded, its own process. */
export interface MonolithFixture {
  url: string;
  pid: number | undefined;
  /** Stops the process and drops its database. */
  stop(): Promise<void>;
}

/**
 * Creates the database `database` afresh with the main run's stores and foods (same ids), `packets`
 * of each food of each store and `agents` of each store, then starts the monolith on `port` and
 * resolves once it answers.
 */
export async function startMonolith(options: {
  port: number;
  database: string;
  stores: { storeId: number; foodIds: number[] }[];
  packets: number;
  agents: number;
}): Promise<MonolithFixture> {
  const env = { ...process.env, MONOLITH_PORT: String(options.port), MONOLITH_DB_NAME: options.database };
  await dropDatabase(monolithEnv(env));
  const pool = await openDatabase(monolithEnv(env));
  try {
    await seedStock(pool, options.stores, options.packets, options.agents);
  } finally {
    await pool.end();
  }
  const child = spawn(process.execPath, [join(__dirname, 'main.js')], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  const url = `http://127.0.0.1:${options.port}`;
  await answering(url, child);
  return {
    url,
    pid: child.pid,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        await exited;
      }
      await dropDatabase(monolithEnv(env));
    },
  };
}

async function dropDatabase({ host, port, user, password, database }: MonolithEnv): Promise<void> {
  const server = await connectUtc({ host, port, user, password });
  await server.query(`DROP DATABASE IF EXISTS \`${database}\``);
  await server.end();
}

/** Waits until the monolith answers HTTP (GET /orders is a 404 of its router), or fails if it exits first. */
async function answering(url: string, child: ChildProcess): Promise<void> {
  for (let tries = 0; tries < 150; tries++) {
    if (child.exitCode !== null) throw new Error(`the monolith exited with code ${child.exitCode}`);
    try {
      await fetch(`${url}/orders`);
      return;
    } catch {
      await sleep(200);
    }
  }
  child.kill('SIGKILL');
  throw new Error('the monolith did not answer within 30 s');
}
