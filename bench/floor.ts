import { createUtcPool } from '@app/database';
import * as amqp from 'amqplib';
import { ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { Pool, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { CpuMeter } from './cpu';

/**
 * The protocol's floor: one order's critical path with nothing on it but what two-phase commit over
 * a broker needs, and none of the framework. Four processes, as the system has: an HTTP front
 * (node:http), a coordinator and two participants, talking over RabbitMQ request-reply (durable
 * queues, persistent messages, acked after the work, replies on direct reply-to, as the system's
 * transport) and writing to MariaDB with mysql2 (READ COMMITTED, multi-statement round trips):
 *
 *   1. the coordinator records the order (RESERVING), one autocommit INSERT;
 *   2. both participants reserve in parallel: barrier row, one free row under SKIP LOCKED, mark it
 *      reserved, commit (two round trips, as the system's reserve);
 *   3. the decision (COMMITTING), one autocommit UPDATE;
 *   4. both participants assign in parallel: barrier row, the reserved row assigned, commit (one);
 *   5. PLACED, one autocommit UPDATE; then the reply.
 *
 * No validation, logging, metrics, retries, batching or recovery: this is what no implementation of
 * this design can go below on this machine, so the system's latency at 1 client is read against it.
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
  warmupSeconds: number;
  seconds: number;
  /** Free rows each participant starts with: more than the run can take. */
  rows: number;
}

/** Runs the floor at 1 client: starts its four processes, warms up, measures, stops them. */
export async function measureFloor(options: FloorOptions): Promise<FloorFigures> {
  for (const role of ['order', 'store', 'delivery'] as const) await createDatabase(options.prefix, role, options.rows);
  const env = {
    ...process.env,
    FLOOR_PREFIX: options.prefix,
    FLOOR_PORT: String(options.port),
    FLOOR_RABBIT_URL: options.rabbitUrl,
  };
  const children = new Map<Role, ChildProcess>();
  try {
    // Participants and the coordinator first, so each queue has its consumer before anything is sent.
    for (const role of ['store', 'delivery', 'order', 'gateway'] as const) {
      const child = fork(__filename, [role], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      children.set(role, child);
      await ready(child, role);
    }
    const url = `http://127.0.0.1:${options.port}/orders`;
    const cpu = new CpuMeter(() => Object.fromEntries([...children].map(([role, child]) => [role, child.pid])));
    await drive(url, options.warmupSeconds, cpu);
    return await drive(url, options.seconds, cpu);
  } finally {
    await Promise.all(
      [...children.values()].map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        await exited;
      }),
    );
    const admin = createUtcPool({ host: '127.0.0.1', user: 'root', password: '', connectionLimit: 1 });
    for (const role of ['order', 'store', 'delivery']) await admin.query(`DROP DATABASE IF EXISTS \`${options.prefix}${role}\``);
    await admin.end();
    const broker = await amqp.connect(options.rabbitUrl);
    const channel = await broker.createChannel();
    for (const role of ['order', 'store', 'delivery'] as const) await channel.deleteQueue(queueOf(options.prefix, role));
    await broker.close();
  }
}

/** One client, one order at a time, for `seconds`. */
async function drive(url: string, seconds: number, cpu: CpuMeter): Promise<FloorFigures> {
  const latencies: number[] = [];
  const steps = new Map<Step, number[]>();
  const cpuBefore = cpu.read();
  const started = performance.now();
  while (performance.now() < started + seconds * 1000) {
    const t0 = performance.now();
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"items":[{"foodId":1,"quantity":1}]}',
      // A process of the floor that died would otherwise leave this waiting for ever.
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await res.json()) as { state: string; steps: Record<Step, number> };
    latencies.push(performance.now() - t0);
    if (res.status !== 201 || body.state !== 'PLACED') throw new Error(`the floor answered ${res.status} ${JSON.stringify(body)}`);
    for (const [step, ms] of Object.entries(body.steps) as [Step, number][]) {
      if (!steps.has(step)) steps.set(step, []);
      steps.get(step)!.push(ms);
    }
  }
  const elapsed = (performance.now() - started) / 1000;
  const pct = (values: number[], p: number) => {
    const sorted = [...values].sort((a, b) => a - b);
    return Math.round((sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0) * 100) / 100;
  };
  return {
    clients: 1,
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
      op ENUM('reserve','assign') NOT NULL,
      PRIMARY KEY (order_id, op)) ENGINE=InnoDB`);
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
async function rpcClient(channel: amqp.Channel) {
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
async function serve(channel: amqp.Channel, queue: string, handle: (request: Record<string, unknown>) => Promise<unknown>) {
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

async function runGateway(env: Env, channel: amqp.Channel): Promise<void> {
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

async function runOrder(env: Env, channel: amqp.Channel, pool: Pool): Promise<void> {
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

async function runParticipant(env: Env, role: 'store' | 'delivery', channel: amqp.Channel, pool: Pool): Promise<void> {
  await serve(channel, queueOf(env.prefix, role), async ({ op, orderId }) => {
    const conn = await pool.getConnection();
    try {
      if (op === 'reserve') {
        const [[, , rows]] = await conn.query<RowDataPacket[][]>(
          `START TRANSACTION; INSERT INTO barrier (order_id, op) VALUES (?, 'reserve');
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
        `START TRANSACTION; INSERT INTO barrier (order_id, op) VALUES (?, 'assign');
         UPDATE item SET state = 'ASSIGNED' WHERE order_id = ? AND state = 'RESERVED'; COMMIT`,
        [orderId, orderId],
      );
      return { ok: results[2].affectedRows === 1 };
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
  const channel = await connection.createChannel();
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
