import { DEFAULT_STORE_ID, MAX_AGENTS_PER_REQUEST, MAX_PACKETS_PER_REQUEST } from '@app/contracts';
import { connectUtc } from '@app/database';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DEV_ADMIN_API_KEY } from '../apps/gateway/src/config/gateway.env';
import { Cart } from '../scripts/answers';
import { checkInvariants, optionsFromEnv } from '../scripts/check';
import { Dice } from '../scripts/chaos/dice';
import { drawCart, StoreFoods } from '../scripts/chaos/traffic';
import { SERVICES, System } from '../scripts/system';
import { BatchSizes, batchSizesBetween, scrapeBatchSizes } from './batches';
import { measureBound } from './bound';
import { FloorFigures, measureFloor } from './floor';
import { CpuMeter } from './cpu';
import { startMonolith } from './monolith/fixture';

/**
 * `npm run bench`: starts the whole system on its own databases and queues (bench_*), seeds
 * `--stores` dark stores with packets of every food and agents of their own, drives concurrent
 * POST /orders of carts of 1 to 3 lines spread over the stores through the gateway, with and
 * without clients reading GET /foods, times GET /foods at 1M and 10M packets (single-food orders on
 * the default store), and measures in the same run the single-database bound and the monolith (the
 * same POST /orders and carts, one app, one database, one transaction per order: bench/monolith/)
 * and the protocol's floor at 1 client (its messages and writes with no framework: bench/floor.ts).
 * Reports the batch sizes of every hop from the services' metrics. Writes bench/results/latest.json
 * and latest.md.
 */

const { values: args } = parseOptions({
  options: {
    concurrency: { type: 'string', default: '32' },
    duration: { type: 'string', default: '60' },
    stores: { type: 'string', default: '4' },
    packets: { type: 'string', default: '30000' },
    agents: { type: 'string', default: '40000' },
    foods: { type: 'string', default: '4' },
    'skip-scale': { type: 'boolean', default: false },
    'skip-10m': { type: 'boolean', default: false },
    prefix: { type: 'string', default: 'bench_' },
    port: { type: 'string', default: '3950' },
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
function whole(name: 'concurrency' | 'duration' | 'stores' | 'packets' | 'agents' | 'foods' | 'warmup' | 'port', min = 1): number {
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
  /** Dark stores; --packets is per food and store, --agents per store. */
  stores: whole('stores'),
  packets: whole('packets'),
  agents: whole('agents'),
  foods: whole('foods'),
  warmup: whole('warmup', 0),
  port: whole('port'),
};
if (!/^[A-Za-z0-9_]+$/.test(args.prefix ?? '')) {
  console.error(`--prefix may hold only letters, digits and _, got ${JSON.stringify(args.prefix)}`);
  process.exit(2);
}
const PREFIX = args.prefix!;

const ENV = {
  NODE_ENV: 'production',
  // A key of this run's own (production refuses the development one); with --url, the target's key.
  ADMIN_API_KEY: args.url ? (process.env.ADMIN_API_KEY ?? DEV_ADMIN_API_KEY) : randomBytes(16).toString('hex'),
  ORDER_ID_SECRET: randomBytes(16).toString('hex'),
  // Every client posts from 127.0.0.1: the per-client rate limit would measure itself, not the system.
  THROTTLE_ORDERS_LIMIT: '10000000',
  // --prefix and --port let two benches (or an A/B pair) share the machine's broker and database.
  PORT: String(opts.port),
  QUEUE_PREFIX: PREFIX,
  STORE_DB_NAME: `${PREFIX}store`,
  DELIVERY_DB_NAME: `${PREFIX}delivery`,
  ORDER_DB_NAME: `${PREFIX}orders`,
  ORDER_METRICS_PORT: String(opts.port + 1),
  STORE_METRICS_PORT: String(opts.port + 2),
  DELIVERY_METRICS_PORT: String(opts.port + 3),
};
/** The monolith's port and database, beside the system's. */
const MONOLITH = { port: opts.port + 4, database: `${PREFIX}monolith` };

/** The listing's scale points: total packets in the store when GET /foods is timed. */
const SCALE_PACKETS = 1_000_000;
const LARGE_PACKETS = 10_000_000;
/** Additions in flight at once while seeding: each is one bounded call of MAX_PACKETS_PER_REQUEST. */
const SEED_PARALLEL = 4;
/** The seed of the carts: every run sends the same carts in the same order, their timing aside. */
const CART_SEED = 14;
const FILL_RATE =
  'fill rate: placed carts / carts the stock could have served (the carts of the warm-up, 1-client and 32-client runs replayed in the order sent against each store’s stock at the start: a cart counts if its store still has every packet it asks for and an agent)';

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
  let monolith: Awaited<ReturnType<typeof startMonolith>> | undefined;
  try {
    let seeding = performance.now();
    const stores = await seedStores(url, opts.stores, opts.foods, opts.packets, opts.agents);
    console.log(
      `  ${round((performance.now() - seeding) / 1000)} s\nseeding the monolith's database ${MONOLITH.database} with the same stock...`,
    );
    seeding = performance.now();
    monolith = await startMonolith({ ...MONOLITH, stores, packets: opts.packets, agents: opts.agents });
    console.log(`  ${round((performance.now() - seeding) / 1000)} s`);
    const { next: carts, sent } = cartsOf(stores);

    // A fresh process runs its code unoptimized for its first few thousand messages: the figures
    // below are of a warmed-up system, as a service in production is.
    const warmupSeconds = args.quick ? Math.min(2, opts.warmup) : opts.warmup;
    console.log(`\nwarm-up: ${concurrency} clients, ${warmupSeconds} s (not counted)`);
    const warmup = await drive(url, carts, concurrency, warmupSeconds, cpu);
    console.log(`\n1 client, ${Math.min(seconds, 10)} s`);
    const single = await drive(url, carts, 1, Math.min(seconds, 10), cpu);
    // Right after the system's 1-client run, on as fresh a database server, while the system idles.
    console.log(
      `\nthe protocol's floor: warm-up, ${concurrency} clients, ${Math.min(warmupSeconds, 3)} s, then 1 client, ${Math.min(seconds, 10)} s`,
    );
    const floor = await measureFloor({
      prefix: `${PREFIX}floor_`,
      port: opts.port + 5,
      rabbitUrl: process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
      warmupClients: concurrency,
      warmupSeconds: Math.min(warmupSeconds, 3),
      seconds: Math.min(seconds, 10),
      rows: 50_000,
    });
    console.log(`  ${JSON.stringify(floor)}`);
    console.log(`\n${concurrency} clients, ${seconds} s`);
    const metrics = metricsEndpoints(url);
    const batchesBefore = await scrapeBatchSizes(metrics);
    const loaded = await drive(url, carts, concurrency, seconds, cpu);
    const batches = batchSizesBetween(batchesBefore, await scrapeBatchSizes(metrics));
    const servable = servableCarts(sent, stores, opts.packets, opts.agents);
    const rssAfterLoad = system ? rssOf(system) : {};

    // The monolith takes the same carts in the same order, warmed up as the system was, while the system idles.
    const monolithCpu = new CpuMeter(() => ({ monolith: monolith?.pid }), ['mariadb']);
    const monolithCarts = cartsOf(stores);
    console.log(`\nthe monolith: warm-up, ${concurrency} clients, ${warmupSeconds} s (not counted)`);
    const monolithWarmup = await drive(monolith.url, monolithCarts.next, concurrency, warmupSeconds, monolithCpu);
    console.log(`\nthe monolith: 1 client, ${Math.min(seconds, 10)} s`);
    const monolithSingle = await drive(monolith.url, monolithCarts.next, 1, Math.min(seconds, 10), monolithCpu);
    console.log(`\nthe monolith: ${concurrency} clients, ${seconds} s`);
    const monolithRun = await drive(monolith.url, monolithCarts.next, concurrency, seconds, monolithCpu);
    const monolithServable = servableCarts(monolithCarts.sent, stores, opts.packets, opts.agents);
    const monolithRss = rssMbOf(monolith.pid);
    await monolith.stop();
    monolith = undefined;
    console.log(`\n${concurrency} clients ordering while ${concurrency} clients read GET /foods, ${seconds} s`);
    const withReaders = await driveWithReaders(url, carts, concurrency, seconds, cpu);

    let scale: RunFigures | undefined;
    let listing: Listing | undefined;
    if (!args['skip-scale'] && !args.quick) {
      console.log('\nseeding 1,000,000 packets and 100,000 agents in the default store...');
      const bigFood = await seedDefaultStore(url, SCALE_PACKETS, 100_000);
      // The single-food API: one packet of the food from the default store, whose stock GET /foods lists.
      const oneOfBigFood = () => ({ storeId: DEFAULT_STORE_ID, items: [{ foodId: bigFood, quantity: 1 }] });
      console.log(`${concurrency} clients on the large stock (single-food orders), ${seconds} s`);
      scale = await drive(url, oneOfBigFood, concurrency, seconds, cpu);
      listing = { at1M: await listLatency(url, Math.min(seconds, 10)), at10M: null, seeding10M: null, withReadersAt10M: null };
      if (!args['skip-10m']) {
        const packets = LARGE_PACKETS - listing.at1M.packets;
        console.log(`\nseeding ${packets} more packets, ${MAX_PACKETS_PER_REQUEST} per call, ${SEED_PARALLEL} calls at once...`);
        const started = performance.now();
        await addPackets(url, DEFAULT_STORE_ID, bigFood, packets, 'Large');
        listing.seeding10M = { packets, seconds: round((performance.now() - started) / 1000) };
        console.log(`  ${listing.seeding10M.seconds} s`);
        listing.at10M = await listLatency(url, Math.min(seconds, 10));
        console.log(`\n${concurrency} clients ordering while ${concurrency} clients read GET /foods at 10M packets, ${seconds} s`);
        listing.withReadersAt10M = await driveWithReaders(url, oneOfBigFood, concurrency, seconds, cpu);
      }
    }

    const rssMb = system ? rssOf(system) : {};
    const report = await checkInvariants(optionsFromEnv({ ...process.env, ...ENV }));
    console.log('\nsingle-database bound: 8 connections, READ COMMITTED');
    const beforeBound = cpu.read();
    const bound = await measureBound({
      database: `${PREFIX}bound`,
      packets: 50_000,
      agents: 50_000,
      connections: 8,
      seconds: Math.min(seconds, 10),
    });
    const boundCpu = CpuMeter.perUnit(pick(beforeBound, BOUND_PROCESSES), pick(cpu.read(), BOUND_PROCESSES), bound.transactions);
    console.log(`  ${round(bound.perSec)} tx/s; CPU ms per transaction: ${JSON.stringify(boundCpu)}`);

    // Stock taken during the warm-up is gone for the later runs, so the fill rate counts its orders too.
    const placed = warmup.placed + loaded.placed + single.placed;
    const result = {
      at: new Date().toISOString(),
      command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
      placedPerSec: round(loaded.placedPerSec),
      boundPerSec: round(bound.perSec),
      ratio: round(loaded.placedPerSec / bound.perSec, 3),
      monolithPerSec: round(monolithRun.placedPerSec),
      ratioToMonolith: round(loaded.placedPerSec / Math.max(monolithRun.placedPerSec, 0.1), 3),
      p50Ms1: single.p50Ms,
      floorP50Ms1: floor.p50Ms,
      p50Ms: loaded.p50Ms,
      p95Ms: loaded.p95Ms,
      p99Ms: loaded.p99Ms,
      maxMs: loaded.maxMs,
      notPlacedPerSec: round(loaded.notPlacedPerSec),
      cpuMsPerOrder: loaded.cpuMsPerOrder,
      boundCpuMsPerTx: boundCpu,
      stores: opts.stores,
      cartLines: '1-3',
      fillRate: round(placed / servable, 4),
      servableCarts: servable,
      violations: report.violations.length,
      pendingAtEnd: report.pending,
      rssMb,
      rssMbAfterLoad: rssAfterLoad,
      placedPerSecWithReaders: withReaders.orders.placedPerSec,
      listing: listing ?? null,
      warmup,
      single,
      loaded,
      withReaders,
      scale: scale ?? null,
      floor,
      monolith: {
        perSec: monolithRun.placedPerSec,
        p50Ms: monolithRun.p50Ms,
        p95Ms: monolithRun.p95Ms,
        p99Ms: monolithRun.p99Ms,
        notPlacedPerSec: monolithRun.notPlacedPerSec,
        p50Ms1: monolithSingle.p50Ms,
        fillRate: round((monolithWarmup.placed + monolithSingle.placed + monolithRun.placed) / monolithServable, 4),
        servableCarts: monolithServable,
        cpuMsPerOrder: monolithRun.cpuMsPerOrder,
        rssMb: monolithRss,
        warmup: monolithWarmup,
        single: monolithSingle,
        run: monolithRun,
      },
      batches,
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
    await monolith?.stop();
    await system?.stopAll();
  }
}

/**
 * Carts of 1 to 3 lines of 1 or 2 packets, each of a store drawn at random, the same ones in the
 * same order for every source (the system's runs, the monolith's); kept as sent, for the fill rate.
 */
function cartsOf(stores: StoreFoods[]): { next: () => Cart; sent: Cart[] } {
  const sent: Cart[] = [];
  const next = () => {
    const cart = drawCart(new Dice(CART_SEED, `cart/${sent.length}`), stores);
    sent.push(cart);
    return cart;
  };
  return { next, sent };
}

/** Each service's /metrics: the gateway's on its HTTP port, the others' on their *_METRICS_PORT. */
function metricsEndpoints(url: string): Record<string, string> {
  return {
    gateway: `${url}/metrics`,
    order: `http://127.0.0.1:${ENV.ORDER_METRICS_PORT}/metrics`,
    store: `http://127.0.0.1:${ENV.STORE_METRICS_PORT}/metrics`,
    delivery: `http://127.0.0.1:${ENV.DELIVERY_METRICS_PORT}/metrics`,
  };
}

/** Each client posts the next cart of `carts` back to back until time is up; latencies of every POST are kept. */
async function drive(url: string, carts: () => Cart, clients: number, seconds: number, cpu: CpuMeter): Promise<RunFigures> {
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
  const client = async () => {
    while (performance.now() < stopAt) {
      const body = JSON.stringify(carts());
      const t0 = performance.now();
      const res = await fetch(`${url}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      await res.arrayBuffer();
      latencies.push(performance.now() - t0);
      if (res.status === 201) placed++;
      else if (res.status === 409) notPlaced++;
      else other++;
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
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

interface ReadFigures {
  /** Packets in the store as the listings answered (the sum of every food's total). */
  packets: number;
  requests: number;
  /** Answers other than 200 (503 once a read waited longer than RPC_TIMEOUT_MS). */
  failed: number;
  perSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

interface Listing {
  at1M: ReadFigures;
  at10M: ReadFigures | null;
  /** How long the bounded additions took to bring the store to 10M packets. */
  seeding10M: { packets: number; seconds: number } | null;
  withReadersAt10M: { orders: RunFigures; reads: ReadFigures } | null;
}

/** `clients` read GET /foods back to back until time is up. */
async function read(url: string, clients: number, seconds: number): Promise<ReadFigures> {
  const latencies: number[] = [];
  let failed = 0;
  let packets = 0;
  const started = performance.now();
  const stopAt = started + seconds * 1000;
  const client = async () => {
    while (performance.now() < stopAt) {
      const t0 = performance.now();
      const res = await fetch(`${url}/foods`);
      const body = (await res.json()) as { packets: { total: number } }[];
      latencies.push(performance.now() - t0);
      if (res.status === 200) packets = body.reduce((sum, food) => sum + food.packets.total, 0);
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => round(latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0, 2);
  return {
    packets,
    requests: latencies.length,
    failed,
    perSec: round(latencies.length / elapsed),
    p50Ms: pct(50),
    p99Ms: pct(99),
    maxMs: round(latencies[latencies.length - 1] ?? 0, 1),
  };
}

/** GET /foods from one client, on a system doing nothing else. */
async function listLatency(url: string, seconds: number): Promise<ReadFigures> {
  const figures = await read(url, 1, seconds);
  console.log(`  GET /foods at ${figures.packets} packets: ${JSON.stringify(figures)}`);
  return figures;
}

/** `clients` order while as many other clients read GET /foods. */
async function driveWithReaders(
  url: string,
  carts: () => Cart,
  clients: number,
  seconds: number,
  cpu: CpuMeter,
): Promise<{ orders: RunFigures; reads: ReadFigures }> {
  const [orders, reads] = await Promise.all([drive(url, carts, clients, seconds, cpu), read(url, clients, seconds)]);
  console.log(`  reads: ${JSON.stringify(reads)}`);
  return { orders, reads };
}

/** The bound runs in this process against MariaDB alone; the services sit idle meanwhile. */
const BOUND_PROCESSES = ['loadgen', 'mariadb'];

function pick(values: Record<string, number>, names: string[]): Record<string, number> {
  return Object.fromEntries(names.filter((name) => name in values).map((name) => [name, values[name]]));
}

/** `foods` foods of the catalogue, then `stores` dark stores, each with `packetsPerFood` packets of every food and `agents` agents. */
async function seedStores(url: string, stores: number, foods: number, packetsPerFood: number, agents: number): Promise<StoreFoods[]> {
  console.log(`seeding ${stores} dark stores, each with ${packetsPerFood} packets of each of ${foods} foods and ${agents} agents...`);
  const foodIds: number[] = [];
  for (let i = 0; i < foods; i++) foodIds.push(await createFood(url, 'Bench', i));
  const seeded: StoreFoods[] = [];
  for (let s = 0; s < stores; s++) {
    const { id } = await post(`${url}/stores`, { name: `Bench store ${RUN}-${s}` }, `store-${s}`);
    for (const foodId of foodIds) await addPackets(url, id, foodId, packetsPerFood, 'Bench');
    await addAgents(url, id, agents, 'Bench');
    seeded.push({ storeId: id, foodIds });
  }
  return seeded;
}

/** One food with `packets` packets and `agents` agents in the default store, the single-food API's; answers the food. */
async function seedDefaultStore(url: string, packets: number, agents: number): Promise<number> {
  const foodId = await createFood(url, 'Scale', 0);
  await addPackets(url, DEFAULT_STORE_ID, foodId, packets, 'Scale');
  await addAgents(url, DEFAULT_STORE_ID, agents, 'Scale');
  return foodId;
}

async function createFood(url: string, label: string, i: number): Promise<number> {
  return (await post(`${url}/foods`, { name: `${label} food ${Date.now()}-${i}`, packets: 0 }, `${label}-food-${i}`)).id;
}

/** Adds `packets` of a food to a store in calls of at most MAX_PACKETS_PER_REQUEST, SEED_PARALLEL at a time. */
async function addPackets(url: string, storeId: number, foodId: number, packets: number, label: string): Promise<void> {
  const calls = chunks(packets, MAX_PACKETS_PER_REQUEST);
  await inParallel(calls, (count, i) => post(`${url}/stores/${storeId}/packets`, { foodId, count }, `${label}-${storeId}-${foodId}-${i}`));
}

async function addAgents(url: string, storeId: number, agents: number, label: string): Promise<void> {
  const calls = chunks(agents, MAX_AGENTS_PER_REQUEST);
  await inParallel(calls, (count, i) => post(`${url}/stores/${storeId}/agents`, { count }, `${label}-${storeId}-agents-${i}`));
}

/**
 * The fill rate's denominator: the carts sent, replayed in the order sent against each store's
 * stock at the start (`packetsPerFood` of each food, `agents`), none delivered meanwhile; a cart
 * counts when its store still has every packet it asks for and an agent, and then takes them.
 * With stock to spare, every cart sent.
 */
function servableCarts(carts: Cart[], stores: StoreFoods[], packetsPerFood: number, agents: number): number {
  const stock = new Map(
    stores.map((store) => [store.storeId, { agents, packets: new Map(store.foodIds.map((id) => [id, packetsPerFood])) }]),
  );
  let servable = 0;
  for (const { storeId, items } of carts) {
    const store = stock.get(storeId)!;
    if (store.agents < 1 || items.some((line) => (store.packets.get(line.foodId) ?? 0) < line.quantity)) continue;
    store.agents--;
    for (const line of items) store.packets.set(line.foodId, store.packets.get(line.foodId)! - line.quantity);
    servable++;
  }
  return servable;
}

function chunks(total: number, size: number): number[] {
  return Array.from({ length: Math.ceil(total / size) }, (_, i) => Math.min(size, total - i * size));
}

async function inParallel<T>(items: T[], work: (item: T, index: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await work(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: SEED_PARALLEL }, worker));
}

/**
 * An admin POST under an Idempotency-Key of this run: a call answered 503 (outcome unknown) is sent
 * again with its key, which adds nothing if the first one did.
 */
async function post(url: string, body: unknown, key: string): Promise<{ id: number }> {
  const idempotencyKey = `${RUN}-${key}`;
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': ENV.ADMIN_API_KEY, 'idempotency-key': idempotencyKey },
      body: JSON.stringify(body),
    });
    if (res.ok) return res.json() as Promise<{ id: number }>;
    if (res.status !== 503 || attempt === 3) throw new Error(`POST ${url}: ${res.status} ${await res.text()}`);
  }
}

/** Names this run's Idempotency-Keys, so a run against a system kept from an earlier one (--url) adds again. */
const RUN = randomBytes(6).toString('hex');

async function resetDatabases(): Promise<void> {
  const db = await connectUtc({ host: '127.0.0.1', user: 'root', password: '' });
  for (const name of [ENV.STORE_DB_NAME, ENV.DELIVERY_DB_NAME, ENV.ORDER_DB_NAME]) await db.query(`DROP DATABASE IF EXISTS \`${name}\``);
  await db.end();
}

function rssOf(system: System): Record<string, number> {
  const rss: Record<string, number> = {};
  for (const service of SERVICES) {
    const mb = rssMbOf(system.pid(service));
    if (mb !== undefined) rss[service] = mb;
  }
  return rss;
}

function rssMbOf(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024, 1);
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
  monolithPerSec: number;
  ratioToMonolith: number;
  monolith: {
    p50Ms1: number;
    p50Ms: number;
    p99Ms: number;
    fillRate: number;
    servableCarts: number;
    cpuMsPerOrder: Record<string, number>;
  };
  floor: FloorFigures;
  batches: BatchSizes[];
  p50Ms1: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  notPlacedPerSec: number;
  stores: number;
  fillRate: number;
  servableCarts: number;
  scale: RunFigures | null;
  placedPerSecWithReaders: number;
  withReaders: { orders: RunFigures; reads: ReadFigures };
  listing: Listing | null;
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
    ['dark stores, carts (lines)', `${result.stores}, 1 to 3 lines of 1 or 2 packets, each of a store drawn at random`],
    ['placed orders/s at 32 clients', result.placedPerSec],
    ['single-database bound (tx/s, 8 connections)', result.boundPerSec],
    ['ratio', result.ratio],
    ['the monolith: placed orders/s at 32 clients (one app, one database, one transaction per order)', result.monolithPerSec],
    ['ratio to the monolith', result.ratioToMonolith],
    [
      'the monolith: p50 / p99 at 32 clients (ms), fill rate',
      `${result.monolith.p50Ms} / ${result.monolith.p99Ms}, ${result.monolith.fillRate} (of ${result.monolith.servableCarts} servable carts)`,
    ],
    ['p50 at 1 client (ms)', result.p50Ms1],
    ['p50 at 1 client of the monolith (ms)', result.monolith.p50Ms1],
    [
      "the protocol's floor at 1 client (the system's messages and writes, no framework; single-line orders): p50 / p99 ms; steps' p50 ms",
      `${result.floor.p50Ms} / ${result.floor.p99Ms}; ${cpuRow(result.floor.stepsP50Ms)}`,
    ],
    ['p50 / p95 / p99 / max at 32 clients (ms)', `${result.p50Ms} / ${result.p95Ms} / ${result.p99Ms} / ${result.maxMs}`],
    ['not placed/s', result.notPlacedPerSec],
    ['fill rate (see below)', `${result.fillRate} (of ${result.servableCarts} servable carts)`],
    ['scale (1M packets, 100k agents): placed/s, p50 ms', result.scale ? `${result.scale.placedPerSec}, ${result.scale.p50Ms}` : 'not run'],
    ['placed orders/s at 32 clients while 32 clients read GET /foods (reads/s, p50 / p99 ms, failed)', readersRow(result.withReaders)],
    ['GET /foods at 1M packets, 1 client: p50 / p99 ms', listingRow(result.listing?.at1M)],
    ['GET /foods at 10M packets, 1 client: p50 / p99 ms', listingRow(result.listing?.at10M ?? undefined)],
    [
      'seeding to 10M packets (bounded calls, 4 at once)',
      result.listing?.seeding10M ? `${result.listing.seeding10M.packets} packets in ${result.listing.seeding10M.seconds} s` : 'not run',
    ],
    ['at 10M packets: placed orders/s while 32 clients read GET /foods', readersRow(result.listing?.withReadersAt10M ?? undefined)],
    ['CPU ms per placed order at 32 clients', cpuRow(result.cpuMsPerOrder)],
    ['CPU ms per placed order at 1 client', cpuRow(result.single.cpuMsPerOrder)],
    ['CPU ms per bound transaction', cpuRow(result.boundCpuMsPerTx)],
    ['CPU ms per order of the monolith at 32 clients', cpuRow(result.monolith.cpuMsPerOrder)],
    ["CPU ms per order of the protocol's floor at 1 client", cpuRow(result.floor.cpuMsPerOrder)],
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
    `Orders are carts; the scale and 10M rows send single-food orders to the default store. The bound is one packet and one agent per transaction. The monolith takes the same carts in the same order. The protocol's floor places one single-line order at a time through the system's steps (record, both reserves, the decision, both assigns, PLACED) over the same broker and database with no framework: bench/floor.ts. The ${FILL_RATE}.`,
    '',
    ...batchesTable(result.batches),
  ].join('\n');
  writeFileSync(join(dir, 'latest.md'), md);
  console.log('\n' + md);
}

/** Orders per message and per transaction at each hop during the 32-client run. */
function batchesTable(batches: BatchSizes[]): string[] {
  const title = 'Batch sizes during the 32-client run (orders per message a hop sends, per transaction a service commits):';
  if (batches.length === 0) return [title, '', 'none: no service reported a batch_size series.', ''];
  return [
    title,
    '',
    '| service | hop | unit | batches | mean | p99 |',
    '|---|---|---|---|---|---|',
    ...batches.map((b) => `| ${b.service} | ${b.hop} | ${b.unit} | ${b.count} | ${b.mean} | ${b.p99 ?? 'past the last bucket'} |`),
    '',
  ];
}

function listingRow(figures: ReadFigures | undefined): string {
  return figures ? `${figures.p50Ms} / ${figures.p99Ms} (${figures.packets} packets, ${figures.requests} requests)` : 'not run';
}

function readersRow(run: { orders: RunFigures; reads: ReadFigures } | undefined): string {
  if (!run) return 'not run';
  const { orders, reads } = run;
  return `${orders.placedPerSec} (${reads.perSec} reads/s, ${reads.p50Ms} / ${reads.p99Ms} ms, ${reads.failed} failed)`;
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
