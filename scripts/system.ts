import { connectUtc } from '@app/database';
import { deadLetterQueueName, Queue, queueName } from '@app/contracts';
import { connect } from 'amqplib';
import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const SERVICES = ['store', 'delivery', 'order', 'gateway'] as const;
export type ServiceName = (typeof SERVICES)[number];

/** How many of each instance's last lines a System keeps, and how much of each (see waitHealthy). */
const TAIL_LINES = 15;
const TAIL_LINE_CHARS = 400;

/**
 * V8 flags of every app; the Dockerfile's CMD and the start:<app> scripts pass the same (a test
 * checks). V8 sizes the heap for the machine: on 24 GiB old space may grow to about 4x the live heap
 * before a full collection, and the young generation takes 2 x 16 MB, so apps with 46-72 MB of heap
 * in use reached 150-215 MB RSS under load. A 512 MB old-space limit makes V8 keep the headroom of a
 * small process (about 1.4x live), and 8 MB semi-spaces halve the young generation: every app then
 * stayed under 150 MB through the bench, and at 122-131 MB after its 60 s run, at the same CPU per
 * order (docs/performance.md, Memory). 512 MB is seven times the largest heap in use measured (72 MB,
 * the store while seeding 9M packets).
 */
export const APP_NODE_FLAGS = ['--max-old-space-size=512', '--max-semi-space-size=8'];

export interface SystemOptions {
  /** Variables for every service, on top of this process's environment. */
  env?: Record<string, string>;
  /** Per-service extra variables (e.g. a fault point for the order service only). */
  serviceEnv?: Partial<Record<ServiceName, Record<string, string>>>;
  /** Where each line a service prints goes; defaults to this process's stdout with a [name] prefix. */
  output?: (service: string, line: string) => void;
  /** The apps start() runs (all four by default); without the gateway, start() does not wait for health. */
  services?: readonly ServiceName[];
  /** Called whenever an instance exits, asked to or not (a fault run tells the two apart itself). */
  onExit?: (name: string, code: number | null, signal: NodeJS.Signals | null) => void;
  root?: string;
}

/**
 * Runs the four apps as real processes from dist/: used by `npm start` and by every system test,
 * so what the tests start is what a user starts. Instances are named `store`, `store#2`, ...
 */
export class System {
  private readonly processes = new Map<string, ChildProcess>();
  /** Each instance's last lines, kept after it exits: a start that fails says what the app said. */
  private readonly tails = new Map<string, string[]>();
  /** How each instance that exited did so, until it is started again. */
  private readonly exits = new Map<string, string>();
  private readonly root: string;

  constructor(private readonly options: SystemOptions = {}) {
    this.root = options.root ?? projectRoot(__dirname);
  }

  get gatewayUrl(): string {
    return `http://127.0.0.1:${this.options.env?.PORT ?? process.env.PORT ?? 3000}`;
  }

  async start(): Promise<void> {
    const services = this.options.services ?? SERVICES;
    for (const service of services) this.spawn(service);
    if (services.includes('gateway')) await this.waitHealthy(60_000, services);
  }

  /** Starts one instance; `instance` > 1 adds a competing consumer next to the first. */
  spawn(service: ServiceName, instance = 1, extraEnv: Record<string, string> = {}): string {
    const name = instance === 1 ? service : `${service}#${instance}`;
    if (this.processes.has(name)) throw new Error(`${name} is already running`);
    const env: NodeJS.ProcessEnv = { ...process.env, ...this.options.env, ...this.options.serviceEnv?.[service], ...extraEnv };
    if (instance > 1 && service === 'gateway') env.PORT = String(Number(env.PORT ?? 3000) + instance - 1);
    // A second instance of a service takes any free port for its /metrics rather than clash with the first.
    if (instance > 1 && service !== 'gateway') env[metricsPortVariable(service)] = extraEnv[metricsPortVariable(service)] ?? '0';
    // Lines arrive here through a pipe; when they end up on a terminal, ask for readable ones.
    if (!this.options.output && process.stdout.isTTY && !env.LOG_FORMAT) env.LOG_FORMAT = 'pretty';
    // The IPC channel is how an app learns that this process is gone (see startOrExit): it then stops.
    const child = spawn(process.execPath, [...APP_NODE_FLAGS, resolve(this.root, `dist/apps/${service}/src/main.js`)], {
      env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const output = this.options.output ?? ((who, line) => process.stdout.write(`[${who}] ${line}\n`));
    const tail: string[] = [];
    this.tails.set(name, tail);
    this.exits.delete(name);
    for (const stream of [child.stdout!, child.stderr!]) {
      let buffered = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        const lines = (buffered + chunk).split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) {
          output(name, line);
          tail.push(line.length > TAIL_LINE_CHARS ? `${line.slice(0, TAIL_LINE_CHARS)}…` : line);
          if (tail.length > TAIL_LINES) tail.shift();
        }
      });
    }
    child.on('exit', (code, signal) => {
      if (this.processes.get(name) === child) this.processes.delete(name);
      this.options.onExit?.(name, code, signal);
    });
    // 'close' comes once its output is read too, so the tail then holds its last words.
    child.on('close', (code, signal) => {
      if (this.tails.get(name) === tail) this.exits.set(name, signal ? `killed by ${signal}` : `exit code ${code}`);
    });
    this.processes.set(name, child);
    return name;
  }

  /** Sends a signal without waiting for an exit: SIGSTOP and SIGCONT freeze and thaw an instance. */
  signal(name: string, signal: NodeJS.Signals): void {
    this.processes.get(name)?.kill(signal);
  }

  pid(name: string): number | undefined {
    return this.processes.get(name)?.pid;
  }

  running(name: string): boolean {
    return this.processes.has(name);
  }

  /**
   * Stops one instance: SIGTERM lets it finish in-flight work; SIGKILL is the crash of fault tests.
   * Resolves with how it exited, or undefined if it was not running.
   */
  async stop(
    name: string,
    signal: NodeJS.Signals = 'SIGTERM',
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null } | undefined> {
    const child = this.processes.get(name);
    if (!child || child.exitCode !== null || child.signalCode !== null) return undefined;
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const [code, exitSignal] = await exited;
    clearTimeout(timer);
    return { code, signal: exitSignal };
  }

  async stopAll(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    // The gateway first, so no new order starts while the others finish theirs.
    const names = [...this.processes.keys()];
    await Promise.all(names.filter((n) => n.startsWith('gateway')).map((n) => this.stop(n, signal)));
    await Promise.all(names.filter((n) => !n.startsWith('gateway')).map((n) => this.stop(n, signal)));
  }

  /**
   * Resolves once the gateway answers /health with every service up, or fails after `timeoutMs`
   * with the last lines of the apps that are down, so that a start that failed on a machine one
   * cannot log in to (CI) says why. Fails at once when the gateway is not running, or one of
   * `mustRun` (the apps start() just started) has exited.
   */
  async waitHealthy(timeoutMs = 60_000, mustRun: readonly string[] = []): Promise<void> {
    const giveUpAt = Date.now() + timeoutMs;
    let last = 'no answer';
    while (Date.now() < giveUpAt) {
      // An exit counts once its output is read (see spawn): its last lines are then whole.
      const gone = new Set(['gateway', ...mustRun].filter((name) => this.exits.has(name)));
      if (!this.tails.has('gateway')) gone.add('gateway');
      if (gone.size > 0) throw new Error(`The system is not running: ${this.describe([...gone])}`);
      try {
        const res = await fetch(`${this.gatewayUrl}/health`);
        if (res.ok) return;
        last = `${res.status} ${await res.text()}`;
      } catch (err) {
        last = (err as Error).message;
      }
      await sleep(200);
    }
    // The gateway's 503 names what is down ("Down: order, order_database"); without one, say it of every app.
    const down = /Down: ([^"]*)/
      .exec(last)?.[1]
      .split(', ')
      .filter((name) => this.tails.has(name));
    const names = down?.length ? down : [...this.tails.keys()];
    throw new Error(`The system did not become healthy within ${timeoutMs} ms: ${last}\n${this.describe(names)}`);
  }

  /** Whether each named instance runs or how it exited, and its last lines. */
  private describe(names: readonly string[]): string {
    return names
      .map((name) => {
        const state = this.exits.get(name) ?? (this.processes.has(name) ? 'running' : this.tails.has(name) ? 'exiting' : 'not started');
        const lines = this.tails.get(name) ?? [];
        return `${name} (${state}); its last ${lines.length} line(s):\n${lines.map((line) => `  ${line}`).join('\n')}`;
      })
      .join('\n');
  }

  /** Calls `listener` when an instance exits without being asked to. */
  onUnexpectedExit(listener: (name: string, code: number | null) => void): void {
    for (const [name, child] of this.processes) {
      child.on('exit', (code, signal) => {
        if (signal === null && code !== 0) listener(name, code);
        else if (signal !== null && signal !== 'SIGTERM' && signal !== 'SIGINT') listener(name, code);
      });
    }
  }
}

/**
 * Drops the three databases and deletes the request and dead-letter queues named by `env`
 * (STORE_DB_NAME, ..., QUEUE_PREFIX, RABBITMQ_URL): a test or fault run starts from nothing, and
 * touches nothing outside its own names.
 */
export async function resetNamespace(env: Record<string, string | undefined>): Promise<void> {
  const db = await connectUtc({
    host: env.DB_HOST ?? '127.0.0.1',
    port: Number(env.DB_PORT ?? 3306),
    user: env.DB_USER ?? 'root',
    password: env.DB_PASSWORD ?? '',
  });
  try {
    for (const name of [env.STORE_DB_NAME, env.DELIVERY_DB_NAME, env.ORDER_DB_NAME]) {
      if (!name) throw new Error('resetNamespace needs STORE_DB_NAME, DELIVERY_DB_NAME and ORDER_DB_NAME');
      await db.query(`DROP DATABASE IF EXISTS \`${name}\``);
    }
  } finally {
    await db.end();
  }
  const broker = await connect(env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672');
  try {
    const channel = await broker.createChannel();
    for (const queue of Object.values(Queue)) {
      const name = queueName(env.QUEUE_PREFIX ?? '', queue);
      await channel.deleteQueue(name);
      await channel.deleteQueue(deadLetterQueueName(name));
    }
  } finally {
    await broker.close();
  }
}

/** The variable holding a service's HTTP port for /metrics and /health: STORE_METRICS_PORT, ... */
export function metricsPortVariable(service: Exclude<ServiceName, 'gateway'>): string {
  return `${service.toUpperCase()}_METRICS_PORT`;
}

/** The folder holding package.json, from scripts/ (ts-jest) or dist/scripts/ (built). */
function projectRoot(from: string): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json')) || dir.endsWith('dist')) {
    if (dirname(dir) === dir) throw new Error(`No package.json above ${from}`);
    dir = dirname(dir);
  }
  return dir;
}
