import { connectUtc } from '@app/database';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DEV_ADMIN_API_KEY } from '../apps/gateway/src/config/gateway.env';
import { checkInvariants, optionsFromEnv } from '../scripts/check';
import { SERVICES, System } from '../scripts/system';
import { measureBound } from './bound';
import { CpuMeter } from './cpu';

/**
 * `npm run bench`: starts the whole system on its own databases and queues (bench_*), seeds stock,
 * drives concurrent POST /orders through the gateway, and measures the single-database bound in the
 * same run. Writes bench/results/latest.json and latest.md.
 */

const { values: args } = parseOptions({
  options: {
    concurrency: { type: 'string', default: '32' },
    duration: { type: 'string', default: '60' },
    packets: { type: 'string', default: '20000' },
    agents: { type: 'string', default: '20000' },
    foods: { type: 'string', default: '4' },
    'skip-scale': { type: 'boolean', default: false },
    url: { type: 'string' },
    warmup: { type: 'string', default: '10' },
    quick: { type: 'boolean', default: false },
  },
});

/** parseArgs, with a bad command line reported as one line instead of a stack trace. */
function parseOptions<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    console.error((error as Error).message);
    process.exit(2);
  }
}

/** A whole-number option, checked before anything starts (a typo would otherwise run as NaN). */
function whole(name: 'concurrency' | 'duration' | 'packets' | 'agents' | 'foods' | 'warmup', min = 1): number {
  const value = Number(args[name]);
  if (!/^\d+$/.test(args[name] ?? '') || value < min) {
    console.error(`--${name} must be a whole number >= ${min}, got ${JSON.stringify(args[name])}`);
    process.exit(2);
  }
  return value;
}
const opts = {
  concurrency: whole('concurrency'),
  duration: whole('duration'),
  packets: whole('packets'),
  agents: whole('agents'),
  foods: whole('foods'),
  warmup: whole('warmup', 0),
};

const ENV = {
  NODE_ENV: 'production',
  // A key of this run's own (production refuses the development one); with --url, the target's key.
  ADMIN_API_KEY: args.url ? (process.env.ADMIN_API_KEY ?? DEV_ADMIN_API_KEY) : randomBytes(16).toString('hex'),
  ORDER_ID_SECRET: randomBytes(16).toString('hex'),
  // Every client posts from 127.0.0.1: the per-client rate limit would measure itself, not the system.
  THROTTLE_ORDERS_LIMIT: '10000000',
  PORT: '3950',
  QUEUE_PREFIX: 'bench_',
  STORE_DB_NAME: 'bench_store',
  DELIVERY_DB_NAME: 'bench_delivery',
  ORDER_DB_NAME: 'bench_orders',
  ORDER_METRICS_PORT: '3951',
  STORE_METRICS_PORT: '3952',
  DELIVERY_METRICS_PORT: '3953',
};

interface RunFigures {
  clients: number;
  seconds: number;
  orders: number;
  placed: number;
  notPlaced: number;
  other: number;
  placedPerSec: number;
  notPlacedPerSec: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  /** CPU milliseconds per placed order, per process (see CpuMeter). */
  cpuMsPerOrder: Record<string, number>;
}

async function main(): Promise<void> {
  const concurrency = opts.concurrency;
  const seconds = args.quick ? 5 : opts.duration;
  const url = args.url ?? `http://127.0.0.1:${ENV.PORT}`;
  const system = args.url ? undefined : new System({ env: ENV, output: () => undefined });
  const cpu = new CpuMeter(() => Object.fromEntries(SERVICES.map((service) => [service, system?.pid(service)])));
  if (system) {
    await resetDatabases();
    await system.start();
  }
  try {
    const packets = opts.packets;
    const agents = opts.agents;
    const foodIds = await seed(url, opts.foods, packets, agents);

    // A fresh process runs its code unoptimized for its first few thousand messages: the figures
    // below are of a warmed-up system, as a service in production is.
    const warmupSeconds = args.quick ? Math.min(2, opts.warmup) : opts.warmup;
    console.log(`\nwarm-up: ${concurrency} clients, ${warmupSeconds} s (not counted)`);
    const warmup = await drive(url, foodIds, concurrency, warmupSeconds, cpu);
    console.log(`\n1 client, ${Math.min(seconds, 10)} s`);
    const single = await drive(url, foodIds, 1, Math.min(seconds, 10), cpu);
    console.log(`\n${concurrency} clients, ${seconds} s`);
    const loaded = await drive(url, foodIds, concurrency, seconds, cpu);
    const rssAfterLoad = system ? rssOf(system) : {};

    let scale: RunFigures | undefined;
    if (!args['skip-scale'] && !args.quick) {
      console.log('\nseeding 1,000,000 packets and 100,000 agents...');
      const bigFood = await seed(url, 1, 1_000_000, 100_000, 'Scale');
      console.log(`${concurrency} clients on the large stock, ${seconds} s`);
      scale = await drive(url, bigFood, concurrency, seconds, cpu);
    }

    const rssMb = system ? rssOf(system) : {};
    const report = await checkInvariants(optionsFromEnv({ ...process.env, ...ENV }));
    console.log('\nsingle-database bound: 8 connections, READ COMMITTED');
    const beforeBound = cpu.read();
    const bound = await measureBound({
      database: 'bench_bound',
      packets: 50_000,
      agents: 50_000,
      connections: 8,
      seconds: Math.min(seconds, 10),
    });
    const boundCpu = CpuMeter.perUnit(pick(beforeBound, BOUND_PROCESSES), pick(cpu.read(), BOUND_PROCESSES), bound.transactions);
    console.log(`  ${round(bound.perSec)} tx/s; CPU ms per transaction: ${JSON.stringify(boundCpu)}`);

    // Stock taken during the warm-up is gone for the later runs, so the fill rate counts its orders too.
    const orders = warmup.orders + loaded.orders + single.orders;
    const placed = warmup.placed + loaded.placed + single.placed;
    const result = {
      at: new Date().toISOString(),
      command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
      placedPerSec: round(loaded.placedPerSec),
      boundPerSec: round(bound.perSec),
      ratio: round(loaded.placedPerSec / bound.perSec, 3),
      p50Ms1: single.p50Ms,
      p50Ms: loaded.p50Ms,
      p95Ms: loaded.p95Ms,
      p99Ms: loaded.p99Ms,
      maxMs: loaded.maxMs,
      notPlacedPerSec: round(loaded.notPlacedPerSec),
      cpuMsPerOrder: loaded.cpuMsPerOrder,
      boundCpuMsPerTx: boundCpu,
      fillRate: round(placed / Math.min(packets * foodIds.length, agents, orders), 4),
      violations: report.violations.length,
      pendingAtEnd: report.pending,
      rssMb,
      rssMbAfterLoad: rssAfterLoad,
      warmup,
      single,
      loaded,
      scale: scale ?? null,
      machine: {
        cores: cpus().length,
        cpu: cpus()[0]?.model,
        node: process.version,
        mariadb: await serverVersion(),
        nest: packageVersion('@nestjs/core'),
        typeorm: packageVersion('typeorm'),
      },
    };
    writeResults(result);
    if (report.violations.length > 0) {
      console.error('Invariant violations:', report.violations);
      process.exitCode = 1;
    }
  } finally {
    await system?.stopAll();
  }
}

/** Each client posts orders back to back until time is up; latencies of every POST are kept. */
async function drive(url: string, foodIds: number[], clients: number, seconds: number, cpu: CpuMeter): Promise<RunFigures> {
  const latencies: number[] = [];
  const cpuBefore = cpu.read();
  let placed = 0;
  let notPlaced = 0;
  let other = 0;
  const started = performance.now();
  const stopAt = started + seconds * 1000;
  let lastPlaced = 0;
  const progress = setInterval(() => {
    process.stdout.write(
      `\r  ${((performance.now() - started) / 1000).toFixed(0)} s: ${placed - lastPlaced} placed/s, ${placed} placed, ${notPlaced} not placed, ${other} other   `,
    );
    lastPlaced = placed;
  }, 1000);
  const client = async (n: number) => {
    for (let i = n; performance.now() < stopAt; i += clients) {
      const t0 = performance.now();
      const res = await fetch(`${url}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ foodId: foodIds[i % foodIds.length] }),
      });
      await res.arrayBuffer();
      latencies.push(performance.now() - t0);
      if (res.status === 201) placed++;
      else if (res.status === 409) notPlaced++;
      else other++;
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, n) => client(n)));
  clearInterval(progress);
  const elapsed = (performance.now() - started) / 1000;
  const cpuMsPerOrder = CpuMeter.perUnit(cpuBefore, cpu.read(), placed);
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => round(latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0, 2);
  const figures = {
    clients,
    seconds: round(elapsed, 1),
    orders: latencies.length,
    placed,
    notPlaced,
    other,
    placedPerSec: round(placed / elapsed),
    notPlacedPerSec: round(notPlaced / elapsed),
    p50Ms: pct(50),
    p95Ms: pct(95),
    p99Ms: pct(99),
    maxMs: round(latencies[latencies.length - 1] ?? 0, 1),
    cpuMsPerOrder,
  };
  process.stdout.write(`\r  ${JSON.stringify(figures)}\n`);
  return figures;
}

/** The bound runs in this process against MariaDB alone; the services sit idle meanwhile. */
const BOUND_PROCESSES = ['loadgen', 'mariadb'];

function pick(values: Record<string, number>, names: string[]): Record<string, number> {
  return Object.fromEntries(names.filter((name) => name in values).map((name) => [name, values[name]]));
}

async function seed(url: string, foods: number, packetsPerFood: number, agents: number, label = 'Bench'): Promise<number[]> {
  const ids: number[] = [];
  // In chunks, so each request stays well inside the gateway's timeout.
  const CHUNK = 100_000;
  for (let i = 0; i < foods; i++) {
    const food = await post(`${url}/foods`, { name: `${label} food ${Date.now()}-${i}`, packets: 0 });
    for (let left = packetsPerFood; left > 0; left -= CHUNK)
      await post(`${url}/foods/${food.id}/packets`, { count: Math.min(left, CHUNK) });
    ids.push(food.id);
  }
  for (let left = agents; left > 0; left -= CHUNK) await post(`${url}/agents`, { count: Math.min(left, CHUNK) });
  return ids;
}

async function post(url: string, body: unknown): Promise<{ id: number }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': ENV.ADMIN_API_KEY },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`POST ${url}: ${res.status} ${await res.text()}`);
  return res.json() as Promise<{ id: number }>;
}

async function resetDatabases(): Promise<void> {
  const db = await connectUtc({ host: '127.0.0.1', user: 'root', password: '' });
  for (const name of [ENV.STORE_DB_NAME, ENV.DELIVERY_DB_NAME, ENV.ORDER_DB_NAME]) await db.query(`DROP DATABASE IF EXISTS \`${name}\``);
  await db.end();
}

function rssOf(system: System): Record<string, number> {
  const rss: Record<string, number> = {};
  for (const service of SERVICES) {
    const pid = system.pid(service);
    if (!pid) continue;
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    rss[service] = round(kb / 1024, 1);
  }
  return rss;
}

async function serverVersion(): Promise<string> {
  const db = await connectUtc({ host: '127.0.0.1', user: 'root', password: '' });
  const [[row]] = await db.query<import('mysql2').RowDataPacket[]>('SELECT VERSION() AS v');
  await db.end();
  return String(row.v);
}

function packageVersion(name: string): string {
  return JSON.parse(readFileSync(join(__dirname, '..', '..', 'node_modules', name, 'package.json'), 'utf8')).version;
}

function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** The fields of a result that latest.md shows. */
interface Shown {
  at: string;
  command: string;
  placedPerSec: number;
  boundPerSec: number;
  ratio: number;
  p50Ms1: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  notPlacedPerSec: number;
  fillRate: number;
  scale: RunFigures | null;
  cpuMsPerOrder: Record<string, number>;
  single: RunFigures;
  boundCpuMsPerTx: Record<string, number>;
  rssMbAfterLoad: Record<string, number>;
  rssMb: Record<string, number>;
  violations: number;
  machine: { cores: number; node: string; mariadb: string };
}

function writeResults(result: Shown): void {
  const dir = join(__dirname, '..', '..', 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'latest.json'), JSON.stringify(result, null, 2) + '\n');
  const rows = [
    ['placed orders/s at 32 clients', result.placedPerSec],
    ['single-database bound (tx/s, 8 connections)', result.boundPerSec],
    ['ratio', result.ratio],
    ['p50 at 1 client (ms)', result.p50Ms1],
    ['p50 / p95 / p99 / max at 32 clients (ms)', `${result.p50Ms} / ${result.p95Ms} / ${result.p99Ms} / ${result.maxMs}`],
    ['not placed/s', result.notPlacedPerSec],
    ['fill rate', result.fillRate],
    ['scale (1M packets, 100k agents): placed/s, p50 ms', result.scale ? `${result.scale.placedPerSec}, ${result.scale.p50Ms}` : 'not run'],
    ['CPU ms per placed order at 32 clients', cpuRow(result.cpuMsPerOrder)],
    ['CPU ms per placed order at 1 client', cpuRow(result.single.cpuMsPerOrder)],
    ['CPU ms per bound transaction', cpuRow(result.boundCpuMsPerTx)],
    [
      'RSS after the 32-client run (MB)',
      Object.entries(result.rssMbAfterLoad)
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
    ],
    [
      'RSS at end (MB)',
      Object.entries(result.rssMb)
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
    ],
    ['invariant violations', result.violations],
    ['machine', `${result.machine.cores} cores, node ${result.machine.node}, MariaDB ${result.machine.mariadb}`],
  ];
  const md = [
    `Benchmark of ${result.at} (\`${result.command}\`)`,
    '',
    '| figure | value |',
    '|---|---|',
    ...rows.map(([k, v]) => `| ${k} | ${v} |`),
    '',
  ].join('\n');
  writeFileSync(join(dir, 'latest.md'), md);
  console.log('\n' + md);
}

function cpuRow(perProcess: Record<string, number>): string {
  return Object.entries(perProcess)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
