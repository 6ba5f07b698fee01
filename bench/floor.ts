import { createUtcPool } from '@app/database';
import * as amqp from 'amqplib';
import { ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { Pool, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { CpuMeter } from './cpu';

/**
 * The protocol's floor: the system's steps for one order and nothing else, with none of the
 * framework. Four processes, as the system has: an HTTP front (node:http), a coordinator and two
 * participants, talking over RabbitMQ request-reply (durable classic queues, persistent requests,
 * confirm channels, acked after the work, replies on direct reply-to, noDelay: as the system's
 * transport) and writing to MariaDB with mysql2 (READ COMMITTED, multi-statement round trips):
 *
 *   1. the coordinator records the order (RESERVING), one autocommit INSERT;
 *   2. both participants reserve in parallel: the barrier row and one free row under SKIP LOCKED in
 *      one round trip, the row marked reserved and the commit in a second (the system takes three);
 *   3. the decision (COMMITTING), one autocommit UPDATE;
 *   4. both participants assign in parallel: the reserved row assigned and the commit, one round
 *      trip (the system takes two);
 *   5. PLACED, one autocommit UPDATE; then the reply, as the system answers only once PLACED.
 *
 * No validation, logging, metrics, timeouts, retries, batching or recovery: the time and CPU the
 * system's messages and durable writes take on this machine by themselves, against which the
 * system's latency at 1 client is read (docs/performance.md, "Latency at 1 client").
 */

const ROLES = ['gateway', 'order', 'store', 'delivery'] as const;
type Role = (typeof ROLES)[number];

/** What a run of the floor measured. */
export interface FloorFigures {
  clients: number;
  seconds: number;
  orders: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  /** The coordinator's median time for each step of one order, in ms. */
  stepsP50Ms: Record<Step, number>;
  cpuMsPerOrder: Record<string, number>;
}

type Step = 'record' | 'reserve' | 'decide' | 'assign' | 'placed';

interface FloorOptions {
  /** Database name prefix; three databases are made from it and dropped at the end. */
  prefix: string;
  port: number;
  rabbitUrl: string;
  warmupClients: number;
  warmupSeconds: number;
  seconds: number;
  /** Free rows each participant starts with: more than the run can take. */
  rows: number;
}

/**
 * Runs the floor: starts its four processes, warms them up with `warmupClients` clients (a fresh
 * process runs its code unoptimized for its first few thousand messages), measures 1 client, and
 * stops them. Its databases and queues are made afresh and dropped at the end.
 */
export async function measureFloor(options: FloorOptions): Promise<FloorFigures> {
  const env = {
    ...process.env,
    FLOOR_PREFIX: options.prefix,
    FLOOR_PORT: String(options.port),
    FLOOR_RABBIT_URL: options.rabbitUrl,
  };
  const children = new Map<Role, ChildProcess>();
  try {
    await dropQueues(options);
    for (const role of ['order', 'store', 'delivery'] as const) await createDatabase(options.prefix, role, options.rows);
    // Participants and the coordinator first, so each queue has its consumer before anything is sent.
    for (const role of ['store', 'delivery', 'order', 'gateway'] as const) {
      const child = fork(__filename, [role], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      children.set(role, child);
      await ready(child, role);
    }
    // A process of the floor that dies fails the run at once, instead of leaving a request unanswered.
    const died = new Promise<never>((_, reject) => {
      for (const [role, child] of children)
        child.once('exit', (code, signal) => reject(new Error(`the floor's ${role} exited (${signal ?? code})`)));
    });
    died.catch(() => undefined);
    const url = `http://127.0.0.1:${options.port}/orders`;
    const cpu = new CpuMeter(() => Object.fromEntries([...children].map(([role, child]) => [role, child.pid])));
    await drive(url, options.warmupClients, options.warmupSeconds, cpu, died);
    return await drive(url, 1, options.seconds, cpu, died);
  } finally {
    await Promise.all([...children.values()].map(stop));
    await cleanUp(`dropping the floor's databases`, async () => {
      const admin = createUtcPool({ host: '127.0.0.1', user: 'root', password: '', connectionLimit: 1 });
      try {
        for (const role of ['order', 'store', 'delivery']) await admin.query(`DROP DATABASE IF EXISTS \`${options.prefix}${role}\``);
      } finally {
        await admin.end();
      }
    });
    await cleanUp(`deleting the floor's queues`, () => dropQueues(options));
  }
}

/** SIGTERM, and SIGKILL if the process has not exited 5 s later. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** A step of the clean-up that failed is told, not thrown: it would hide the run's own error. */
async function cleanUp(what: string, step: () => Promise<unknown>): Promise<void> {
  try {
    await step();
  } catch (err) {
    console.error(`${what} failed: ${(err as Error).message}`);
  }
}

async function dropQueues(options: FloorOptions): Promise<void> {
  const broker = await amqp.connect(options.rabbitUrl);
  try {
    const channel = await broker.createChannel();
    for (const role of ['order', 'store', 'delivery'] as const) await channel.deleteQueue(queueOf(options.prefix, role));
  } finally {
    await broker.close();
  }
}

/** `clients` clients, each placing one single-line order after the other, for `seconds`. */
async function drive(url: string, clients: number, seconds: number, cpu: CpuMeter, died: Promise<never>): Promise<FloorFigures> {
  const latencies: number[] = [];
  const steps = new Map<Step, number[]>();
  const cpuBefore = cpu.read();
  const started = performance.now();
  const client = async () => {
    while (performance.now() < started + seconds * 1000) {
      const t0 = performance.now();
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"items":[{"foodId":1,"quantity":1}]}',
      });
      const body = (await res.json()) as { state: string; steps: Record<Step, number> };
      latencies.push(performance.now() - t0);
      if (res.status !== 201 || body.state !== 'PLACED') throw new Error(`the floor answered ${res.status} ${JSON.stringify(body)}`);
      for (const [step, ms] of Object.entries(body.steps) as [Step, number][]) {
        if (!steps.has(step)) steps.set(step, []);
        steps.get(step)!.push(ms);
      }
    }
  };
  await Promise.race([Promise.all(Array.from({ length: clients }, client)), died]);
  const elapsed = (performance.now() - started) / 1000;
  const pct = (values: number[], p: number) => {
    const sorted = [...values].sort((a, b) => a - b);
    return Math.round((sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0) * 100) / 100;
  };
  return {
    clients,
    seconds: Math.round(elapsed * 10) / 10,
    orders: latencies.length,
    p50Ms: pct(latencies, 50),
    p95Ms: pct(latencies, 95),
    p99Ms: pct(latencies, 99),
    stepsP50Ms: Object.fromEntries([...steps].map(([step, values]) => [step, pct(values, 50)])) as Record<Step, number>,
    cpuMsPerOrder: CpuMeter.perUnit(cpuBefore, cpu.read(), latencies.length),
  };
}

async function ready(child: ChildProcess, role: Role): Promise<void> {
  const [message] = (await Promise.race([once(child, 'message'), once(child, 'exit').then(() => [`exited`])])) as [string];
  if (message !== 'ready') throw new Error(`the floor's ${role} did not start: ${message}`);
}

async function createDatabase(prefix: string, role: 'order' | 'store' | 'delivery', rows: number): Promise<void> {
  const admin = createUtcPool({ host: '127.0.0.1', user: 'root', password: '', connectionLimit: 1 });
  await admin.query(`DROP DATABASE IF EXISTS \`${prefix}${role}\``);
  await admin.query(`CREATE DATABASE \`${prefix}${role}\``);
  await admin.end();
  const pool = createUtcPool({ host: '127.0.0.1', user: 'root', password: '', database: `${prefix}${role}`, connectionLimit: 1 });
  if (role === 'order') {
    await pool.query(`CREATE TABLE orders (
      id CHAR(36) CHARACTER SET ascii NOT NULL PRIMARY KEY,
      state ENUM('RESERVING','COMMITTING','PLACED') NOT NULL) ENGINE=InnoDB`);
  } else {
    await pool.query(`CREATE TABLE item (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      state ENUM('FREE','RESERVED','ASSIGNED') NOT NULL DEFAULT 'FREE',
      order_id CHAR(36) CHARACTER SET ascii NULL,
      KEY idx_order (order_id), KEY idx_state (state)) ENGINE=InnoDB`);
    await pool.query(`CREATE TABLE barrier (
      order_id CHAR(36) CHARACTER SET ascii NOT NULL,
      PRIMARY KEY (order_id)) ENGINE=InnoDB`);
    for (let left = rows; left > 0; left -= 10_000) {
      await pool.query(`INSERT INTO item (state) VALUES ${"('FREE'),".repeat(Math.min(left, 10_000) - 1)}('FREE')`);
    }
  }
  await pool.end();
}

// ---- the four processes ----

interface Env {
  prefix: string;
  port: number;
  rabbitUrl: string;
}

const queueOf = (prefix: string, role: Role) => `${prefix}${role}`;

/** Request-reply over one channel: persistent requests to a durable queue, replies on direct reply-to. */
async function rpcClient(channel: amqp.ConfirmChannel) {
  const waiting = new Map<string, (reply: unknown) => void>();
  let next = 0;
  await channel.consume(
    'amq.rabbitmq.reply-to',
    (msg) => {
      if (!msg) return;
      waiting.get(msg.properties.correlationId)?.(JSON.parse(msg.content.toString()));
      waiting.delete(msg.properties.correlationId);
    },
    { noAck: true },
  );
  return (queue: string, request: unknown) =>
    new Promise<unknown>((resolve) => {
      const correlationId = String(next++);
      waiting.set(correlationId, resolve);
      channel.sendToQueue(queue, Buffer.from(JSON.stringify(request)), {
        correlationId,
        replyTo: 'amq.rabbitmq.reply-to',
        persistent: true,
      });
    });
}

/** Serves `queue`: each request acked once its reply is sent. */
async function serve(channel: amqp.ConfirmChannel, queue: string, handle: (request: Record<string, unknown>) => Promise<unknown>) {
  await channel.assertQueue(queue, { durable: true });
  await channel.prefetch(32);
  await channel.consume(queue, (msg) => {
    if (!msg) return;
    void handle(JSON.parse(msg.content.toString()) as Record<string, unknown>).then(
      (reply) => {
        channel.sendToQueue(msg.properties.replyTo as string, Buffer.from(JSON.stringify(reply)), {
          correlationId: msg.properties.correlationId,
        });
        channel.ack(msg);
      },
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  });
}

async function runGateway(env: Env, channel: amqp.ConfirmChannel): Promise<void> {
  const call = await rpcClient(channel);
  let n = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const cart = JSON.parse(Buffer.concat(chunks).toString()) as unknown;
      const orderId = `${process.pid}-${Date.now()}-${n++}`;
      void call(queueOf(env.prefix, 'order'), { orderId, cart }).then((reply) => {
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify(reply));
      });
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(env.port, '127.0.0.1');
  await once(server, 'listening');
}

async function runOrder(env: Env, channel: amqp.ConfirmChannel, pool: Pool): Promise<void> {
  const call = await rpcClient(channel);
  const both = (op: string, orderId: unknown) =>
    Promise.all(
      (['store', 'delivery'] as const).map((role) => call(queueOf(env.prefix, role), { op, orderId }) as Promise<{ ok: boolean }>),
    );
  await serve(channel, queueOf(env.prefix, 'order'), async ({ orderId }) => {
    const steps = {} as Record<Step, number>;
    let t = performance.now();
    const lap = (step: Step) => {
      const now = performance.now();
      steps[step] = Math.round((now - t) * 100) / 100;
      t = now;
    };
    await pool.query(`INSERT INTO orders (id, state) VALUES (?, 'RESERVING')`, [orderId]);
    lap('record');
    if (!(await both('reserve', orderId)).every((reply) => reply.ok)) throw new Error(`the floor ran out of rows`);
    lap('reserve');
    await pool.query(`UPDATE orders SET state = 'COMMITTING' WHERE id = ?`, [orderId]);
    lap('decide');
    if (!(await both('assign', orderId)).every((reply) => reply.ok)) throw new Error(`an assign of the floor found no reservation`);
    lap('assign');
    await pool.query(`UPDATE orders SET state = 'PLACED' WHERE id = ?`, [orderId]);
    lap('placed');
    return { orderId, state: 'PLACED', steps };
  });
}

async function runParticipant(env: Env, role: 'store' | 'delivery', channel: amqp.ConfirmChannel, pool: Pool): Promise<void> {
  await serve(channel, queueOf(env.prefix, role), async ({ op, orderId }) => {
    const conn = await pool.getConnection();
    try {
      if (op === 'reserve') {
        const [[, , rows]] = await conn.query<RowDataPacket[][]>(
          `START TRANSACTION; INSERT INTO barrier (order_id) VALUES (?);
           SELECT id FROM item WHERE state = 'FREE' LIMIT 1 FOR UPDATE SKIP LOCKED`,
          [orderId],
        );
        if (rows.length === 0) {
          await conn.query('ROLLBACK');
          return { ok: false };
        }
        await conn.query(`UPDATE item SET state = 'RESERVED', order_id = ? WHERE id = ?; COMMIT`, [orderId, rows[0].id]);
        return { ok: true };
      }
      const [results] = await conn.query<ResultSetHeader[]>(
        `START TRANSACTION; UPDATE item SET state = 'ASSIGNED' WHERE order_id = ? AND state = 'RESERVED'; COMMIT`,
        [orderId],
      );
      return { ok: results[1].affectedRows === 1 };
    } finally {
      conn.release();
    }
  });
}

async function runRole(role: Role): Promise<void> {
  const env: Env = {
    prefix: process.env.FLOOR_PREFIX ?? 'floor_',
    port: Number(process.env.FLOOR_PORT ?? 3995),
    rabbitUrl: process.env.FLOOR_RABBIT_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
  };
  // As the system's transport: without noDelay, Nagle's algorithm holds small frames for the peer's delayed ACK (40 ms).
  const connection = await amqp.connect(env.rabbitUrl, { noDelay: true });
  // Confirm channels, as amqp-connection-manager opens for the system: the broker confirms every publish.
  const channel = await connection.createConfirmChannel();
  const pool =
    role === 'gateway'
      ? undefined
      : createUtcPool(
          { host: '127.0.0.1', user: 'root', password: '', database: `${env.prefix}${role}`, connectionLimit: 4, multipleStatements: true },
          { readCommitted: true },
        );
  if (role === 'gateway') await runGateway(env, channel);
  else if (role === 'order') await runOrder(env, channel, pool!);
  else await runParticipant(env, role, channel, pool!);
  // A bench killed outright leaves no process of the floor behind holding its port and queues.
  process.on('disconnect', () => process.exit(1));
  process.on('SIGTERM', () => {
    void Promise.allSettled([connection.close(), pool?.end()]).then(() => process.exit(0));
  });
  process.send?.('ready');
}

if (require.main === module) {
  const role = process.argv[2] as Role | undefined;
  if (role !== undefined && !ROLES.includes(role)) {
    console.error(`usage: floor.js [${ROLES.join('|')}]: with no role, measures the floor; the measurement forks each role`);
    process.exit(2);
  }
  const run =
    role === undefined
      ? measureFloor({
          prefix: 'floor_',
          port: 3995,
          rabbitUrl: process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
          warmupClients: 32,
          warmupSeconds: 3,
          seconds: Number(process.env.FLOOR_SECONDS ?? 10),
          rows: 50_000,
        }).then((figures) => console.log(JSON.stringify(figures)))
      : runRole(role);
  run.catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
