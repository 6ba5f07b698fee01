import { connectUtc } from '@app/database';
import { DEFAULT_STORE_ID, OrderState, UNSETTLED_STATES } from '@app/contracts';
import { RowDataPacket } from 'mysql2/promise';
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { createReadStream, createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkAnswers, tallyAnswers } from '../answers';
import { CheckOptions, CheckReport, checkInvariants, optionsFromEnv, Violation } from '../check';
import { killDatabaseSessions, MACHINE_RABBITMQCTL, Rabbitmqctl, restartRabbitmq } from '../faults';
import { PrivateRabbitmq } from '../rabbitmq-node';
import { resetNamespace } from '../system';
import { chaosPorts, Fleet, InstanceExit, instanceName } from './fleet';
import { Fault, faultSchedule, laneOf } from './schedule';
import { Additions, ChaosExchange, tellsTheOrder, Traffic } from './traffic';

export interface ChaosOptions {
  seed: number;
  durationS: number;
  clients: number;
  /** Prefix of the run's queues and databases (`<prefix>store`, ...). */
  prefix: string;
  /** First of the run's ports (see chaosPorts). */
  port: number;
  /**
   * 'own': a RabbitMQ node of the run's own on `port + 8`, restarted with its rabbitmqctl;
   * 'shared': the broker at RABBITMQ_URL, restarted with the machine's `rabbitmqctl`.
   */
  broker: 'own' | 'shared';
  brokerRestarts: boolean;
  /** Where the diagnostics and the apps' log go. */
  outDir: string;
  /** Their file name without extension; by default `chaos-<seed>-<time>`, so that runs never overwrite each other. */
  name?: string;
  /** Receives a progress line every 10 s. */
  progress?: (line: string) => void;
  signal?: AbortSignal;
}

/** The fault suite's short timeouts, so that every fault resolves within seconds. */
export const CHAOS_TIMINGS = {
  RESERVATION_TTL_MS: 5000,
  SWEEP_INTERVAL_MS: 500,
  RPC_TIMEOUT_MS: 1000,
  PHASE2_ATTEMPTS: 4,
  RETRY_BASE_MS: 100,
  LEASE_MS: 7000,
  RECOVERY_INTERVAL_MS: 500,
  CONTENTION_WAIT_MS: 3000,
  ORDER_WAIT_MS: 6000,
  ORDER_LOST_AFTER_MS: 8000,
};

/**
 * Limited stock, so that orders are both placed and refused; the admins add more during the run.
 * Packets run out for good while agents come back with each delivery, so both sides are contended:
 * agents while deliveries lag, packets when they keep up. Two dark stores take the carts, each with
 * packets of every food of the catalogue and agents of its own; the default store, with less, the
 * single-food orders (a tenth of all).
 */
const FOODS = 3;
const STORES = [
  { name: 'Koramangala', packetsPerFood: 15, agents: 15 },
  { name: 'Indiranagar', packetsPerFood: 15, agents: 15 },
];
const DEFAULT_STORE_STOCK = { packetsPerFood: 5, agents: 5 };
/** I6: after the last fault (or the last order sent), every order settles within the TTL plus this. */
const SETTLE_GRACE_MS = 15_000;

/** The one line a run prints. */
export interface ChaosSummary {
  seed: number;
  seconds: number;
  clients: number;
  requests: number;
  answers: Record<string, number>;
  status500: number;
  unexpectedExits: number;
  uncleanStops: number;
  violations: number;
  faultErrors: number;
  orders: Record<string, number>;
  /** The orders of each dark store (by id; the default store's are the single-food ones) by state. */
  ordersByStore: Record<string, Record<string, number>>;
  faults: Record<string, number>;
  /** From the last fault (or last order sent, if later) until no order was in flight; null if that did not happen in time. */
  settledMs: number | null;
  diagnostics: string;
}

export interface ChaosResult {
  ok: boolean;
  summary: ChaosSummary;
  violations: Violation[];
  status500: ChaosExchange[];
  unexpectedExits: InstanceExit[];
  uncleanStops: InstanceExit[];
  faultErrors: string[];
  diagnosticsFile: string;
  logFile: string;
}

interface InjectedFault {
  fault: Fault;
  /** ms after the clients started. */
  startedMs: number;
  endedMs?: number;
  detail?: string;
  error?: string;
  /** Its lane fell so far behind (slow restarts) that it came due after the clients had stopped. */
  skipped?: boolean;
}

/**
 * One chaos run: two instances of every app on databases and queues of its own, clients and
 * admins for `durationS` seconds while the seed's faults happen, then the settling (I6), the
 * invariant checker (I1, I2, I3, I5, I8), every answer against the databases (I4) and the stock the
 * admins added to each dark store (I5). Writes the diagnostics and the apps' log to `outDir`.
 */
export async function runChaos(o: ChaosOptions): Promise<ChaosResult> {
  mkdirSync(o.outDir, { recursive: true });
  const stem = resolve(o.outDir, o.name ?? `chaos-${o.seed}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  const logFile = `${stem}.log`;
  const diagnosticsFile = `${stem}.json`;
  const exchangesFile = `${stem}.answers.jsonl`;
  const log = createWriteStream(logFile);
  const write = (who: string, line: string) => log.write(`[${who}] ${line}\n`);
  const note = (line: string) => write('chaos', `${new Date().toISOString()} ${line}`);
  /** A step of the run: in the log, and to whoever follows the progress. */
  const step = (line: string) => {
    note(line);
    o.progress?.(line);
  };
  const ports = chaosPorts(o.port);
  // Every request and pause of the run listens on this signal at once: hundreds of listeners, no leak.
  const signal = o.signal ?? new AbortController().signal;
  setMaxListeners(Infinity, signal);
  const schedule = faultSchedule(o.seed, {
    durationMs: o.durationS * 1000,
    leaseMs: CHAOS_TIMINGS.LEASE_MS,
    brokerRestarts: o.brokerRestarts ? Math.max(1, Math.round(o.durationS / 100)) : 0,
  });
  const adminKey = randomBytes(16).toString('hex');
  const env: Record<string, string> = {
    NODE_ENV: 'production',
    ADMIN_API_KEY: adminKey,
    ORDER_ID_SECRET: randomBytes(16).toString('hex'),
    // Every client posts from 127.0.0.1: the per-client rate limit would refuse the run itself.
    THROTTLE_ORDERS_LIMIT: '10000000',
    LOG_FORMAT: 'json',
    PORT: String(ports.gateways[0]),
    QUEUE_PREFIX: o.prefix,
    STORE_DB_NAME: `${o.prefix}store`,
    DELIVERY_DB_NAME: `${o.prefix}delivery`,
    ORDER_DB_NAME: `${o.prefix}orders`,
    ORDER_METRICS_PORT: String(ports.health.order[0]),
    STORE_METRICS_PORT: String(ports.health.store[0]),
    DELIVERY_METRICS_PORT: String(ports.health.delivery[0]),
    ...Object.fromEntries(Object.entries(CHAOS_TIMINGS).map(([name, value]) => [name, String(value)])),
  };
  const database = optionsFromEnv({ ...process.env, ...env });
  const gateways = ports.gateways.map((port) => `http://127.0.0.1:${port}`);
  let broker: PrivateRabbitmq | undefined;
  let fleet: Fleet | undefined;
  let progress: NodeJS.Timeout | undefined;
  let outcome;
  try {
    if (o.broker === 'own') {
      step(`starting a RabbitMQ node of the run's own on port ${ports.broker}`);
      broker = await PrivateRabbitmq.start(ports.broker, (line) => write('rabbitmq', line));
    }
    env.RABBITMQ_URL = broker?.url ?? process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
    await resetNamespace(env);
    step(`starting two instances of every app (gateways on ${ports.gateways.join(' and ')})`);
    fleet = new Fleet(env, ports, write);
    await fleet.start();
    const { foodIds, storeIds, initial } = await seedStock(gateways[0], adminKey, o.seed);

    const started = Date.now();
    const traffic = new Traffic({
      seed: o.seed,
      clients: o.clients,
      gateways,
      adminKey,
      foodIds,
      storeIds,
      orderWaitMs: CHAOS_TIMINGS.ORDER_WAIT_MS,
      lostAfterMs: CHAOS_TIMINGS.ORDER_LOST_AFTER_MS,
      until: started + o.durationS * 1000,
      signal,
    });
    const injected: InjectedFault[] = [];
    progress = setInterval(() => o.progress?.(progressLine(started, o.durationS, traffic, injected, fleet!)), 10_000);
    step(`clients and faults start: ${schedule.length} faults scheduled`);
    let faultsEndedAt = started;
    const ctl = broker?.ctl ?? MACHINE_RABBITMQCTL;
    const databases = [env.STORE_DB_NAME, env.DELIVERY_DB_NAME, env.ORDER_DB_NAME];
    await Promise.all([
      injectFaults(schedule, started, started + o.durationS * 1000, injected, { fleet, ctl, database, databases, note, signal }).then(
        () => (faultsEndedAt = Date.now()),
      ),
      traffic.run(),
    ]);
    clearInterval(progress);
    const lastOrderAt = Math.max(...traffic.exchanges.filter((x) => x.route === 'POST /orders').map((x) => x.sentAt ?? 0));
    step('faults and clients done; settling');
    const faultErrors = injected.filter((f) => f.error).map((f) => `${describeFault(f.fault)}: ${f.error}`);
    const down = await fleet.allHealthy(signal);
    if (down.length > 0) faultErrors.push(`${down.join(', ')} not healthy after the run`);

    const { report, settledMs } = await settle(database, Math.max(faultsEndedAt, lastOrderAt), signal);
    const violations = [...report.violations];
    if (report.pending > 0) {
      const unsettled = await unsettledOrders(database);
      const states = unsettled.map((o) => o.state).join(', ');
      violations.push({
        invariant: 'I6',
        message: `${unsettled.length} order(s) still in flight: ${states}`,
        ids: unsettled.map((o) => o.id),
      });
    }
    step('checking every answer against the databases');
    violations.push(
      ...(await checkAnswers([...traffic.exchanges], {
        database,
        lostAfterMs: CHAOS_TIMINGS.ORDER_LOST_AFTER_MS,
        lookUp: (id) => traffic.lookUp(id),
      })),
    );
    const stock = await stockPerStore(database);
    violations.push(...additionViolations(stock, initial, traffic.added));
    outcome = {
      traffic,
      report,
      violations,
      settledMs,
      faultErrors,
      injected,
      initial,
      stock,
      reasons: await notPlacedReasons(database),
      byStore: await ordersByStore(database),
    };
  } finally {
    clearInterval(progress);
    step('stopping');
    await fleet?.stopAll();
    await broker?.stop();
    await new Promise((done) => log.end(done));
  }

  const { traffic, report, violations, settledMs, faultErrors, injected, initial, stock, reasons, byStore } = outcome;
  const status500 = traffic.exchanges.filter((x) => x.status === 500);
  const tally = tallyAnswers(traffic.exchanges);
  const faults: Record<string, number> = {};
  for (const { fault, skipped } of injected) if (!skipped) faults[fault.kind] = (faults[fault.kind] ?? 0) + 1;
  const summary: ChaosSummary = {
    seed: o.seed,
    seconds: o.durationS,
    clients: o.clients,
    requests: traffic.exchanges.length,
    answers: tally.byStatus,
    status500: status500.length,
    unexpectedExits: fleet!.unexpectedExits.length,
    uncleanStops: fleet!.uncleanStops.length,
    violations: violations.length,
    faultErrors: faultErrors.length,
    orders: report.orders,
    ordersByStore: byStore,
    faults,
    settledMs,
    diagnostics: diagnosticsFile,
  };
  const ok = violations.length + status500.length + fleet!.unexpectedExits.length + fleet!.uncleanStops.length + faultErrors.length === 0;
  const logLines = await linesAbout(logFile, [
    ...new Set([
      ...violations.slice(0, 50).flatMap((v) => v.ids.slice(0, 2)),
      ...status500.map((x) => x.orderId).filter((id): id is string => !!id),
    ]),
  ]);
  writeFileSync(exchangesFile, traffic.exchanges.map((x) => JSON.stringify(x) + '\n').join(''));
  writeFileSync(
    diagnosticsFile,
    JSON.stringify(
      {
        summary,
        ok,
        options: { ...o, signal: undefined, progress: undefined },
        timings: CHAOS_TIMINGS,
        logFile,
        exchangesFile,
        violations: violations.map((v) => ({ ...v, log: Object.fromEntries(v.ids.slice(0, 2).map((id) => [id, logLines.get(id) ?? []])) })),
        status500,
        unexpectedExits: fleet!.unexpectedExits,
        uncleanStops: fleet!.uncleanStops,
        faultErrors,
        answers: tally.byRoute,
        // Keys whose client gave up without learning its order (every try unanswered, 500 or pending with only the key).
        keysNeverAnswered: keysNeverAnswered(traffic.exchanges),
        added: traffic.added,
        initialStock: initial,
        finalStock: stock,
        report: {
          orders: report.orders,
          notPlacedReasons: reasons,
          pending: report.pending,
          packets: report.packets,
          agents: report.agents,
        },
        faults: injected,
      },
      null,
      2,
    ) + '\n',
  );
  return {
    ok,
    summary,
    violations,
    status500,
    unexpectedExits: fleet!.unexpectedExits,
    uncleanStops: fleet!.uncleanStops,
    faultErrors,
    diagnosticsFile,
    logFile,
  };
}

interface FaultContext {
  fleet: Fleet;
  ctl: Rabbitmqctl;
  database: CheckOptions;
  databases: string[];
  note: (line: string) => void;
  signal?: AbortSignal;
}

/** Runs each lane of the schedule in order, the lanes side by side, until `until`; records what each fault did. */
async function injectFaults(
  schedule: Fault[],
  started: number,
  until: number,
  injected: InjectedFault[],
  ctx: FaultContext,
): Promise<void> {
  const lanes = new Map<string, Fault[]>();
  for (const fault of schedule) lanes.set(laneOf(fault), [...(lanes.get(laneOf(fault)) ?? []), fault]);
  await Promise.all(
    [...lanes.values()].map(async (faults) => {
      for (const fault of faults) {
        await sleep(Math.max(0, started + fault.at - Date.now()), undefined, { signal: ctx.signal });
        const record: InjectedFault = { fault, startedMs: Date.now() - started };
        injected.push(record);
        if (Date.now() > until) {
          record.skipped = true;
          continue;
        }
        ctx.note(`fault: ${describeFault(fault)}`);
        try {
          record.detail = await inject(fault, ctx);
        } catch (err) {
          ctx.signal?.throwIfAborted();
          record.error = (err as Error).message;
        }
        record.endedMs = Date.now() - started;
        ctx.note(
          `fault over: ${describeFault(fault)}${record.detail ? ` (${record.detail})` : ''}${record.error ? ` FAILED: ${record.error}` : ''}`,
        );
      }
    }),
  );
}

async function inject(fault: Fault, ctx: FaultContext): Promise<string | undefined> {
  switch (fault.kind) {
    case 'kill': {
      const began = Date.now();
      if (!(await ctx.fleet.kill(fault.service, fault.instance, fault.downMs, ctx.signal)))
        throw new Error(`${instanceName(fault.service, fault.instance)} not healthy within 60 s of its restart`);
      return `healthy again after ${Date.now() - began} ms`;
    }
    case 'pause':
      await ctx.fleet.pause(fault.service, fault.instance, fault.pauseMs, ctx.signal);
      return undefined;
    case 'db-burst': {
      let killed = 0;
      for (let i = 0; i < fault.kills; i++) {
        killed += await killDatabaseSessions(ctx.database, ctx.databases);
        await sleep(fault.spacingMs, undefined, { signal: ctx.signal });
      }
      return `${killed} sessions killed`;
    }
    case 'broker-restart':
      await restartRabbitmq(ctx.ctl, fault.downMs);
      return undefined;
  }
}

export function describeFault(fault: Fault): string {
  switch (fault.kind) {
    case 'kill':
      return `kill -9 ${instanceName(fault.service, fault.instance)}, restarted after ${fault.downMs} ms`;
    case 'pause':
      return `SIGSTOP ${instanceName(fault.service, fault.instance)} for ${fault.pauseMs} ms`;
    case 'db-burst':
      return `${fault.kills} rounds of database session kills, ${fault.spacingMs} ms apart`;
    case 'broker-restart':
      return `broker restart, down ${fault.downMs} ms`;
  }
}

/** The packets and agents of each dark store (by id). */
type StockPerStore = Record<number, { packets: number; agents: number }>;

/**
 * The catalogue's foods, the two dark stores of the carts and the default store's stock; answers
 * the foods, the stores and what each store holds.
 */
async function seedStock(
  url: string,
  adminKey: string,
  seed: number,
): Promise<{ foodIds: number[]; storeIds: number[]; initial: StockPerStore }> {
  const post = async (path: string, body: unknown) => {
    const res = await fetch(url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': adminKey },
      body: JSON.stringify(body),
    });
    if (res.status !== 201) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as { id: number };
  };
  const foodIds: number[] = [];
  for (let i = 1; i <= FOODS; i++) {
    foodIds.push((await post('/foods', { name: `Chaos ${seed} food ${i}`, packets: DEFAULT_STORE_STOCK.packetsPerFood })).id);
  }
  await post('/agents', { count: DEFAULT_STORE_STOCK.agents });
  const initial: StockPerStore = {
    [DEFAULT_STORE_ID]: { packets: FOODS * DEFAULT_STORE_STOCK.packetsPerFood, agents: DEFAULT_STORE_STOCK.agents },
  };
  const storeIds: number[] = [];
  for (const store of STORES) {
    const { id } = await post('/stores', { name: `${store.name} ${seed}` });
    for (const foodId of foodIds) await post(`/stores/${id}/packets`, { foodId, count: store.packetsPerFood });
    await post(`/stores/${id}/agents`, { count: store.agents });
    storeIds.push(id);
    initial[id] = { packets: FOODS * store.packetsPerFood, agents: store.agents };
  }
  return { foodIds, storeIds, initial };
}

/** I6: polls the checker until no order is in flight, for up to the TTL plus a grace after `from`. */
async function settle(
  database: CheckOptions,
  from: number,
  signal?: AbortSignal,
): Promise<{ report: CheckReport; settledMs: number | null }> {
  const giveUpAt = from + CHAOS_TIMINGS.RESERVATION_TTL_MS + SETTLE_GRACE_MS;
  for (;;) {
    const report = await checkInvariants(database);
    if (report.pending === 0) return { report, settledMs: Math.max(0, Date.now() - from) };
    if (Date.now() > giveUpAt) return { report, settledMs: null };
    await sleep(250, undefined, { signal });
  }
}

/** NOT_PLACED orders by reason: a reason that grows under some fault points at the refusals to look at. */
async function notPlacedReasons(database: CheckOptions): Promise<Record<string, number>> {
  const db = await connectUtc({ host: database.host, port: database.port, user: database.user, password: database.password });
  try {
    const [rows] = await db.query<RowDataPacket[]>(
      `SELECT reason, COUNT(*) AS n FROM \`${database.orderDb}\`.orders WHERE state = 'NOT_PLACED' GROUP BY reason`,
    );
    return Object.fromEntries(rows.map((r) => [String(r.reason), Number(r.n)]));
  } finally {
    await db.end();
  }
}

async function unsettledOrders(database: CheckOptions): Promise<{ id: string; state: OrderState }[]> {
  const db = await connectUtc({ host: database.host, port: database.port, user: database.user, password: database.password });
  try {
    const [rows] = await db.query<RowDataPacket[]>(`SELECT id, state FROM \`${database.orderDb}\`.orders WHERE state IN (?)`, [
      UNSETTLED_STATES,
    ]);
    return rows.map((r) => ({ id: String(r.id), state: r.state as OrderState }));
  } finally {
    await db.end();
  }
}

/**
 * I5 for what the admins added, per dark store: its totals grew by what was confirmed, plus at
 * most what may have gone through, and no store holds rows it was never given.
 */
function additionViolations(stock: StockPerStore, initial: StockPerStore, added: Additions): Violation[] {
  const storeIds = [...new Set([...Object.keys(stock), ...Object.keys(initial)].map(Number))];
  return storeIds.flatMap((storeId) =>
    (['packets', 'agents'] as const).flatMap((what) => {
      const total = stock[storeId]?.[what] ?? 0;
      const start = initial[storeId]?.[what] ?? 0;
      const { confirmed, unknown } = added[storeId]?.[what] ?? { confirmed: 0, unknown: 0 };
      if (total >= start + confirmed && total <= start + confirmed + unknown) return [];
      const message = `dark store ${storeId}: ${total} ${what} at the end: ${start} at the start, ${confirmed} added for sure, ${unknown} maybe`;
      return [{ invariant: 'I5' as const, message, ids: [String(storeId)] }];
    }),
  );
}

/** The packets and agents each dark store holds, counted from the rows. */
async function stockPerStore(database: CheckOptions): Promise<StockPerStore> {
  const db = await connectUtc({ host: database.host, port: database.port, user: database.user, password: database.password });
  try {
    const stock: StockPerStore = {};
    for (const [what, table] of [
      ['packets', `\`${database.storeDb}\`.packet`],
      ['agents', `\`${database.deliveryDb}\`.agent`],
    ] as const) {
      const [rows] = await db.query<RowDataPacket[]>(`SELECT store_id, COUNT(*) AS n FROM ${table} GROUP BY store_id`);
      for (const row of rows) {
        const storeId = Number(row.store_id);
        stock[storeId] = { ...(stock[storeId] ?? { packets: 0, agents: 0 }), [what]: Number(row.n) };
      }
    }
    return stock;
  } finally {
    await db.end();
  }
}

/** The orders of each dark store by state (an order whose command never arrived has no store: 'none'). */
async function ordersByStore(database: CheckOptions): Promise<Record<string, Record<string, number>>> {
  const db = await connectUtc({ host: database.host, port: database.port, user: database.user, password: database.password });
  try {
    const [rows] = await db.query<RowDataPacket[]>(
      `SELECT store_id, state, COUNT(*) AS n FROM \`${database.orderDb}\`.orders GROUP BY store_id, state`,
    );
    const byStore: Record<string, Record<string, number>> = {};
    for (const row of rows) {
      const store = row.store_id === null ? 'none' : String(row.store_id);
      byStore[store] = { ...byStore[store], [String(row.state)]: Number(row.n) };
    }
    return byStore;
  } finally {
    await db.end();
  }
}

function keysNeverAnswered(exchanges: ChaosExchange[]): string[] {
  const answered = new Map<string, boolean>();
  for (const x of exchanges) if (x.key !== undefined) answered.set(x.key, (answered.get(x.key) ?? false) || tellsTheOrder(x));
  return [...answered].filter(([, told]) => !told).map(([key]) => key);
}

/** The lines of the log naming each id (the first 60 of each). */
async function linesAbout(logFile: string, ids: string[]): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>(ids.map((id) => [id, []]));
  if (ids.length === 0) return found;
  for await (const line of createInterface({ input: createReadStream(logFile), crlfDelay: Infinity })) {
    for (const id of ids) {
      const lines = found.get(id)!;
      if (lines.length < 60 && line.includes(id)) lines.push(line);
    }
  }
  return found;
}

function progressLine(started: number, durationS: number, traffic: Traffic, injected: InjectedFault[], fleet: Fleet): string {
  const { byStatus } = tallyAnswers(traffic.exchanges);
  const seconds = Math.round((Date.now() - started) / 1000);
  return `chaos: ${seconds}/${durationS} s, ${traffic.exchanges.length} requests ${JSON.stringify(byStatus)}, ${injected.filter((f) => !f.skipped).length} faults, ${fleet.unexpectedExits.length} unexpected exits`;
}
