import { connectUtc } from '@app/database';
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { RowDataPacket } from 'mysql2/promise';
import { CheckOptions } from './check';

/** The infrastructure faults of the fault suite and the chaos run, injected the same way in both. */

export type DatabaseServer = Pick<CheckOptions, 'host' | 'port' | 'user' | 'password'>;

/**
 * Kills every MySQL session working in one of `databases` (the services' pooled connections), as a
 * network blip or a server-side timeout would; sessions of other databases on the shared server are
 * left alone. Resolves with how many were killed.
 */
export async function killDatabaseSessions(server: DatabaseServer, databases: string[]): Promise<number> {
  const db = await connectUtc({ host: server.host, port: server.port, user: server.user, password: server.password });
  try {
    const [sessions] = await db.query<RowDataPacket[]>(
      'SELECT id FROM information_schema.processlist WHERE db IN (?) AND id <> CONNECTION_ID()',
      [databases],
    );
    let killed = 0;
    for (const { id } of sessions) {
      // A session may end on its own between the listing and the KILL.
      await db.query(`KILL ${Number(id)}`).then(
        () => killed++,
        () => undefined,
      );
    }
    return killed;
  } finally {
    await db.end();
  }
}

/** How to reach one RabbitMQ node with rabbitmqctl. */
export interface Rabbitmqctl {
  command: string;
  /** Arguments before the command's own, e.g. `-n node@host`. */
  args: string[];
  env?: NodeJS.ProcessEnv;
}

/** The machine's own node, as `rabbitmqctl` on the PATH reaches it. */
export const MACHINE_RABBITMQCTL: Rabbitmqctl = { command: 'rabbitmqctl', args: [] };

/**
 * Restarts the broker application of a node: every connection drops, unconfirmed publishes and
 * unacked deliveries are lost or redelivered, and the node comes back `downMs` later with its
 * durable queues. The Erlang node itself stays up, so rabbitmqctl can start the app again.
 */
export async function restartRabbitmq(ctl: Rabbitmqctl = MACHINE_RABBITMQCTL, downMs = 0): Promise<void> {
  const run = (command: string) => promisify(execFile)(ctl.command, [...ctl.args, command], { env: ctl.env ?? process.env });
  await run('stop_app');
  await sleep(downMs);
  await run('start_app');
}
