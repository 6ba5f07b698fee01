import { Queue } from '@app/contracts';
import { DEV_ORDER_ID_SECRET, Partition, PartitionMap, rmqClientOptions, RmqSettings } from '@app/platform';
import { ClientProxy, ClientProxyFactory } from '@nestjs/microservices';
import { createWriteStream, mkdirSync } from 'node:fs';
import { connectUtc } from '@app/database';
import { RowDataPacket } from 'mysql2/promise';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CheckOptions, CheckReport, checkInvariants, checkPartitions, optionsFromEnv, PartitionsReport } from '../../scripts/check';
import { resetNamespace, ServiceName, SERVICES, System } from '../../scripts/system';
import { ApiAnswer, OpenApiDocument } from './openapi';

/** The ADMIN_API_KEY of every test system. */
export const TEST_ADMIN_KEY = 'test-admin-key-0123456789';

/**
 * The queue and database prefix and the port of one suite. TEST_NS and TEST_PORT_OFFSET let two
 * checkouts run their suites side by side on one machine.
 */
export function testNamespace(suite: string, basePort: number): { prefix: string; port: number } {
  const prefix = process.env.TEST_NS ? `t_${process.env.TEST_NS}_${suite}_` : `t_${suite}_`;
  return { prefix, port: basePort + Number(process.env.TEST_PORT_OFFSET ?? 0) };
}

/**
 * A whole system for one test file: its own databases and queues (prefix `t_<suite>_`), its own
 * gateway port (both shifted by TEST_NS / TEST_PORT_OFFSET), short timeouts so faults resolve in seconds. It never touches a running demo.
 */
export class TestSystem {
  readonly env: Record<string, string>;
  readonly system: System;
  readonly url: string;
  private readonly clients: ClientProxy[] = [];
  readonly logFile: string;
  /** Once conformToDocument() ran: the document every answer of post() and get() must match. */
  private api?: OpenApiDocument;

  constructor(suite: string, basePort: number, overrides: Record<string, string> = {}, services?: readonly ServiceName[]) {
    const { prefix, port } = testNamespace(suite, basePort);
    this.env = {
      NODE_ENV: 'test',
      PORT: String(port),
      QUEUE_PREFIX: prefix,
      STORE_DB_NAME: `${prefix}store`,
      DELIVERY_DB_NAME: `${prefix}delivery`,
      ORDER_DB_NAME: `${prefix}orders`,
      RESERVATION_TTL_MS: '3000',
      SWEEP_INTERVAL_MS: '500',
      RPC_TIMEOUT_MS: '1000',
      PHASE2_ATTEMPTS: '3',
      RETRY_BASE_MS: '50',
      LEASE_MS: '8000',
      RECOVERY_INTERVAL_MS: '500',
      CONTENTION_WAIT_MS: '4000',
      ORDER_WAIT_MS: '20000',
      ORDER_LOST_AFTER_MS: '25000',
      // Each system's services serve /metrics on ports of their own, clear of the gateways' range.
      ORDER_METRICS_PORT: String(port + 1000),
      STORE_METRICS_PORT: String(port + 2000),
      DELIVERY_METRICS_PORT: String(port + 3000),
      ADMIN_API_KEY: TEST_ADMIN_KEY,
      // The suites measure the system, not the rate limit; the bad-input suite lowers it on purpose.
      THROTTLE_ORDERS_LIMIT: '1000000',
      ...overrides,
    };
    this.url = `http://127.0.0.1:${port}`;
    mkdirSync(join(__dirname, '..', 'logs'), { recursive: true });
    this.logFile = join(__dirname, '..', 'logs', `${suite}.log`);
    const log = createWriteStream(this.logFile);
    this.output = (who, line) => log.write(`[${who}] ${line}\n`);
    this.system = new System({ env: this.env, output: this.output, services });
  }

  /** Where the apps' lines go: the suite's log file. */
  protected readonly output: (who: string, line: string) => void;

  /** Fresh databases and queues, then (`prepare`, to start on databases of its own making) all four apps. */
  async start(prepare?: () => Promise<void>): Promise<void> {
    await this.reset();
    await prepare?.();
    await this.system.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.close()));
    await this.system.stopAll();
  }

  protected reset(): Promise<void> {
    return resetNamespace({ ...this.env, RABBITMQ_URL: this.rmq.url });
  }

  get rmq(): RmqSettings {
    const queueType = this.env.RMQ_QUEUE_TYPE === 'quorum' ? 'quorum' : 'classic';
    return {
      url: process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
      queuePrefix: this.env.QUEUE_PREFIX,
      prefetch: 8,
      queueType,
    };
  }

  /** A raw client onto one service's queue, for tests that act as a stray or duplicating producer. */
  client(queue: (typeof Queue)[keyof typeof Queue]): ClientProxy {
    const client = ClientProxyFactory.create(rmqClientOptions(this.rmq, queue));
    this.clients.push(client);
    return client;
  }

  /** A connection to the server the system's services use (DB_HOST, DB_PORT, ... of its env), in UTC as theirs are. */
  db() {
    const { host, port, user, password } = optionsFromEnv({ ...process.env, ...this.env });
    return connectUtc({ host, port, user, password, multipleStatements: false });
  }

  async query<T extends RowDataPacket>(sql: string, params: unknown[] = []): Promise<T[]> {
    const db = await this.db();
    try {
      const [rows] = await db.query<T[]>(sql, params);
      return rows;
    } finally {
      await db.end();
    }
  }

  /** Where this system's databases are, as the invariant checker reads them. */
  get databases(): CheckOptions {
    return optionsFromEnv({ ...process.env, ...this.env });
  }

  check(): Promise<CheckReport> {
    return checkInvariants(this.databases);
  }

  /**
   * Polls the checker until no order is in flight; I6 says this happens within TTL plus a few
   * seconds. First makes sure no app died on its own: a crash must fail the test, not hide in it.
   */
  async settled(timeoutMs = 20_000): Promise<CheckReport> {
    this.expectRunning();
    const giveUpAt = Date.now() + timeoutMs;
    for (;;) {
      const report = await this.check();
      if (report.pending === 0 || Date.now() > giveUpAt) return report;
      await sleep(200);
    }
  }

  /** Throws, naming them, when services of the suite have stopped on their own. */
  expectRunning(): void {
    const dead = SERVICES.filter((service) => !this.system.running(service));
    if (dead.length > 0) throw new Error(`${dead.join(', ')} stopped on its own; see ${this.logFile}`);
  }

  /** From now on every answer of post() and get(), and each one given to expectDocumented(), must be one the gateway's OpenAPI document describes. */
  async conformToDocument(): Promise<OpenApiDocument> {
    this.api = await OpenApiDocument.fetch(this.url);
    return this.api;
  }

  /** Throws, naming the difference, when the document does not describe this answer to this request. */
  expectDocumented(request: { method: string; path: string }, answer: ApiAnswer): void {
    const errors = this.api?.answerErrors(request, answer) ?? [];
    if (errors.length > 0) throw new Error(`An answer the OpenAPI document does not describe:\n${errors.join('\n')}`);
  }

  /** POSTs JSON with the admin key (order endpoints ignore it); `headers` replace the key, e.g. `{}` for none. */
  async post(
    path: string,
    body: unknown,
    headers: Record<string, string> = { 'x-api-key': TEST_ADMIN_KEY },
  ): Promise<{ status: number; body: any }> {
    const res = await fetch(this.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const answer = { status: res.status, headers: res.headers, body: await res.json() };
    this.expectDocumented({ method: 'POST', path }, answer);
    return { status: answer.status, body: answer.body };
  }

  async get(path: string): Promise<{ status: number; body: any }> {
    const res = await fetch(this.url + path);
    const answer = { status: res.status, headers: res.headers, body: await res.json() };
    this.expectDocumented({ method: 'GET', path }, answer);
    return { status: answer.status, body: answer.body };
  }

  /** Waits until `probe` returns something truthy, polling every 20 ms. */
  async until<T>(probe: () => Promise<T | undefined | null | false>, timeoutMs = 10_000, what = 'condition'): Promise<T> {
    const giveUpAt = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value) return value;
      if (Date.now() > giveUpAt) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
      await sleep(20);
    }
  }
}

/**
 * A test system split into partitions (PARTITION_MAP): each partition's store, delivery and order
 * services run as a System of their own with PARTITION=<name>, on the queues and databases the map
 * gives it; one gateway (this.system) routes to all of them.
 */
export class PartitionedTestSystem extends TestSystem {
  readonly map: PartitionMap;
  readonly partitions: Map<string, { partition: Partition; system: System; env: Record<string, string> }>;

  constructor(suite: string, basePort: number, ranges: { name: string; from: number; to: number }[]) {
    const { prefix } = testNamespace(suite, basePort);
    const partitions: Partition[] = ranges.map(({ name, from, to }) => ({
      name,
      queuePrefix: `${prefix}${name}_`,
      stores: { from, to },
      databases: { order: `${prefix}${name}_orders`, store: `${prefix}${name}_store`, delivery: `${prefix}${name}_delivery` },
    }));
    // The gateway takes every queue prefix from the map: QUEUE_PREFIX empty is unset.
    super(suite, basePort, { PARTITION_MAP: JSON.stringify({ partitions }), QUEUE_PREFIX: '' }, ['gateway']);
    this.map = new PartitionMap(partitions, true);
    this.partitions = new Map(
      partitions.map((partition, i) => {
        // Each partition's services serve /metrics on ports of their own, 100 apart.
        const env: Record<string, string> = {
          ...this.env,
          PARTITION: partition.name,
          ORDER_METRICS_PORT: String(Number(this.env.ORDER_METRICS_PORT) + 100 * i),
          STORE_METRICS_PORT: String(Number(this.env.STORE_METRICS_PORT) + 100 * i),
          DELIVERY_METRICS_PORT: String(Number(this.env.DELIVERY_METRICS_PORT) + 100 * i),
        };
        // Set as the map says (explicit settings must agree with it; see applyPartition).
        Object.assign(env, {
          QUEUE_PREFIX: partition.queuePrefix,
          ORDER_DB_NAME: partition.databases.order,
          STORE_DB_NAME: partition.databases.store,
          DELIVERY_DB_NAME: partition.databases.delivery,
        });
        const output = (who: string, line: string) => this.output(`${partition.name}/${who}`, line);
        return [partition.name, { partition, env, system: new System({ env, output, services: ['store', 'delivery', 'order'] }) }];
      }),
    );
  }

  /** Every partition's services, then the gateway once it sees them all up. */
  override async start(): Promise<void> {
    await this.reset();
    for (const { system } of this.partitions.values()) await system.start();
    await this.system.start();
  }

  override async stop(): Promise<void> {
    await super.stop();
    await Promise.all([...this.partitions.values()].map(({ system }) => system.stopAll()));
  }

  /** Each partition's databases and queues, by the names of the map, dropped. */
  protected override async reset(): Promise<void> {
    for (const { partition } of this.partitions.values()) {
      const { order, store, delivery } = partition.databases;
      await resetNamespace({
        ...this.env,
        RABBITMQ_URL: this.rmq.url,
        QUEUE_PREFIX: partition.queuePrefix,
        ORDER_DB_NAME: order,
        STORE_DB_NAME: store,
        DELIVERY_DB_NAME: delivery,
      });
    }
  }

  /** The checker over every partition and across them (I9). */
  checkPartitions(): Promise<PartitionsReport> {
    return checkPartitions(this.map, this.databases, this.env.ORDER_ID_SECRET ?? DEV_ORDER_ID_SECRET);
  }

  /** Once no order is in flight in any partition whose services run: the partitions' reports. */
  async settledPartitions(timeoutMs = 20_000): Promise<PartitionsReport> {
    const giveUpAt = Date.now() + timeoutMs;
    for (;;) {
      const report = await this.checkPartitions();
      const pending = Object.values(report.partitions).reduce((sum, part) => sum + part.pending, 0);
      if (pending === 0 || Date.now() > giveUpAt) return report;
      await sleep(200);
    }
  }
}
