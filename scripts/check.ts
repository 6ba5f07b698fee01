import { HoldCounts, isMintedOrderId, OrderLine, partitionOrderIdSecret, tallyHoldCounts } from '@app/contracts';
import { connectUtc } from '@app/database';
import { Partition, PartitionMap, parsePartitionMap } from '@app/platform';
import { config as loadDotenv } from 'dotenv';
import { Connection, RowDataPacket } from 'mysql2/promise';
import { localPartitions, partitionCount } from './local-partitions';

/**
 * The invariant checker of shared/INVARIANTS.md (I1, I2, I3, I5, I8, and under I5 the maintained
 * counts the listings read), reading the three services' databases directly. Tests, the benchmark,
 * the chaos run and operators (`npm run check`) all use this one definition.
 */

export interface CheckOptions {
  host: string;
  port: number;
  user: string;
  password: string;
  storeDb: string;
  deliveryDb: string;
  orderDb: string;
  /** The participants' sweep interval: I3 allows a reservation to outlive its expiry by that much. */
  sweepIntervalMs: number;
}

export interface Violation {
  /** This checker finds I1, I2, I3, I5, I8 and (checkPartitions) I9; answers.ts I4, and the runs that wait for it I6. */
  invariant: 'I1' | 'I2' | 'I3' | 'I4' | 'I5' | 'I6' | 'I8' | 'I9';
  message: string;
  ids: string[];
}

export interface CheckReport {
  violations: Violation[];
  orders: Record<string, number>;
  /** Orders not yet settled (RESERVING, COMMITTING, ABORTING, DELIVERING). */
  pending: number;
  packets: HoldCounts;
  agents: HoldCounts;
}

const HOLDING = ['PLACED', 'DELIVERING', 'DELIVERED'];
const IN_FLIGHT = ['RESERVING', 'COMMITTING', 'ABORTING', 'DELIVERING'];
/** Time the sweep itself may take on top of its interval. */
export const SWEEP_GRACE_MS = 1000;

export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): CheckOptions {
  return {
    host: env.DB_HOST ?? '127.0.0.1',
    port: Number(env.DB_PORT ?? 3306),
    user: env.DB_USER ?? 'root',
    password: env.DB_PASSWORD ?? '',
    storeDb: env.STORE_DB_NAME ?? 'store',
    deliveryDb: env.DELIVERY_DB_NAME ?? 'delivery',
    orderDb: env.ORDER_DB_NAME ?? 'orders',
    sweepIntervalMs: Number(env.SWEEP_INTERVAL_MS ?? 5000),
  };
}

interface OrderRow extends RowDataPacket {
  id: string;
  store_id: number | null;
  /** The cart (JSON: text from MariaDB, parsed by mysql2 from MySQL). */
  items: string | OrderLine[];
  state: string;
  agent_id: number | null;
}
interface HoldRow extends RowDataPacket {
  id: number;
  order_id: string;
  state: string;
  store_id: number;
  food_id?: number;
}
export async function checkInvariants(options: CheckOptions): Promise<CheckReport> {
  // In UTC, as the services write expiries: I3 compares them with NOW(3).
  const db = await connectUtc({ host: options.host, port: options.port, user: options.user, password: options.password });
  try {
    // One InnoDB snapshot across the three databases (they share a server here): an order that
    // settles while we read is seen wholly before or wholly after, never half-way.
    await db.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    await db.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
    return await check(db, options);
  } finally {
    await db.end();
  }
}

async function check(db: Connection, o: CheckOptions): Promise<CheckReport> {
  const violations: Violation[] = [];
  const flag = (invariant: Violation['invariant'], message: string, ids: (string | number)[]) =>
    violations.push({ invariant, message, ids: ids.map(String) });

  const [packets] = await db.query<HoldRow[]>(
    `SELECT id, order_id, state, store_id, food_id FROM \`${o.storeDb}\`.packet WHERE order_id IS NOT NULL`,
  );
  const [agents] = await db.query<HoldRow[]>(
    `SELECT id, order_id, state, store_id FROM \`${o.deliveryDb}\`.agent WHERE order_id IS NOT NULL`,
  );
  const [rows] = await db.query<OrderRow[]>(`SELECT id, store_id, items, state, agent_id FROM \`${o.orderDb}\`.orders`);
  const orders = rows.map((row) => ({ ...row, items: typeof row.items === 'string' ? (JSON.parse(row.items) as OrderLine[]) : row.items }));
  const holding = orders.filter((r) => HOLDING.includes(r.state));

  // I1: no double use. A packet row has one order_id and an agent's order_id is unique, so the rows
  // cannot; the orders' logs could: no packet in the carts of two placed orders, no agent with two.
  const agentsByOrder = groupBy(agents, (r) => r.order_id);
  for (const [orderId, held] of agentsByOrder) {
    if (held.length > 1) flag('I1', `order holds ${held.length} agents`, [orderId, ...held.map((h) => h.id)]);
  }
  const logged = holding.flatMap((order) => order.items.flatMap((line) => line.packetIds.map((packetId) => ({ packetId, order }))));
  for (const [packetId, sharing] of groupBy(logged, (r) => String(r.packetId))) {
    if (sharing.length > 1)
      flag(
        'I1',
        `packet ${packetId} is in the carts of ${sharing.length} orders`,
        sharing.map((r) => r.order.id),
      );
  }
  for (const [agentId, sharing] of groupBy(
    orders.filter((r) => r.state === 'PLACED'),
    (r) => String(r.agent_id),
  )) {
    if (sharing.length > 1)
      flag(
        'I1',
        `agent ${agentId} is assigned to ${sharing.length} placed orders`,
        sharing.map((r) => r.id),
      );
  }

  // I2: all or nothing: a placed order holds exactly the packets its cart asked for (each line's
  // count of its food), the ones it logged, and one agent, the one it logged; a not-placed one holds nothing.
  // I8: every packet and the agent of a placed order belong to the order's dark store.
  const packetsOf = groupBy(packets, (p) => p.order_id);
  const agentOf = new Map(agents.map((a) => [a.order_id, a]));
  const known = new Set(orders.map((r) => r.id));
  for (const order of orders) {
    const held = packetsOf.get(order.id) ?? [];
    const agent = agentOf.get(order.id);
    const packetsOk = holdsItsCart(order, held);
    const agentOk = agent?.state === 'ASSIGNED' && Number(agent.id) === Number(order.agent_id);
    if (order.state === 'PLACED' && !(packetsOk && agentOk)) {
      flag('I2', `PLACED order lacks its cart or its agent (packets: ${describeAll(held)}, agent: ${describe(agent)})`, [order.id]);
    } else if (order.state === 'DELIVERED' && (!packetsOk || agent)) {
      flag('I2', `DELIVERED order should hold its cart and no agent (packets: ${describeAll(held)}, agent: ${describe(agent)})`, [
        order.id,
      ]);
    } else if (order.state === 'DELIVERING' && !packetsOk) {
      flag('I2', `DELIVERING order lacks its cart (${describeAll(held)})`, [order.id]);
    } else if (order.state === 'NOT_PLACED' && (held.length > 0 || agent)) {
      flag('I2', `NOT_PLACED order still holds something (packets: ${describeAll(held)}, agent: ${describe(agent)})`, [order.id]);
    }
    if (HOLDING.includes(order.state)) {
      const strangers = [...held, ...(agent ? [agent] : [])].filter((row) => Number(row.store_id) !== Number(order.store_id));
      if (strangers.length > 0) {
        flag('I8', `order of dark store ${order.store_id} holds rows of another store (${describeAll(strangers)})`, [order.id]);
      }
    }
  }
  for (const [what, rows] of [
    ['packet', packets],
    ['agent', agents],
  ] as const) {
    for (const row of rows) {
      if (row.state === 'ASSIGNED' && !known.has(row.order_id)) {
        flag('I2', `${what} ${row.id} is assigned to an order the coordinator does not know`, [row.order_id]);
      }
    }
  }

  // I3: nothing held past its expiry by more than one sweep interval.
  const lag = o.sweepIntervalMs + SWEEP_GRACE_MS;
  for (const [what, table] of [
    ['packet', `\`${o.storeDb}\`.packet`],
    ['agent', `\`${o.deliveryDb}\`.agent`],
  ] as const) {
    const [stale] = await db.query<HoldRow[]>(
      `SELECT id, order_id FROM ${table} WHERE state = 'RESERVED' AND reserved_until < NOW(3) - INTERVAL ? MICROSECOND`,
      [lag * 1000],
    );
    if (stale.length > 0) {
      flag(
        'I3',
        `${stale.length} ${what} reservation(s) outlived their expiry by more than ${lag} ms`,
        stale.map((r) => `${r.id}:${r.order_id}`),
      );
    }
  }

  // I5: conservation. Rows change state, never number: what is assigned, per store and food, is
  // exactly what settled orders' carts hold, give or take the orders still deciding.
  const want = new Map<string, { placed: number; inFlight: number }>();
  for (const order of orders) {
    const placed = HOLDING.includes(order.state);
    const deciding = IN_FLIGHT.includes(order.state) && order.state !== 'DELIVERING';
    for (const line of order.items) {
      const entry = want.get(`${order.store_id}:${line.foodId}`) ?? { placed: 0, inFlight: 0 };
      if (placed) entry.placed += line.quantity;
      if (deciding) entry.inFlight += line.quantity;
      want.set(`${order.store_id}:${line.foodId}`, entry);
    }
  }
  const assignedOf = countBy(
    packets.filter((p) => p.state === 'ASSIGNED'),
    (p) => `${p.store_id}:${p.food_id}`,
  );
  for (const key of new Set([...want.keys(), ...assignedOf.keys()])) {
    const { placed, inFlight } = want.get(key) ?? { placed: 0, inFlight: 0 };
    const assigned = assignedOf.get(key) ?? 0;
    if (assigned < placed || assigned > placed + inFlight) {
      const [store, food] = key.split(':');
      flag('I5', `dark store ${store}, food ${food}: ${assigned} packets assigned for ${placed} in placed carts (${inFlight} deciding)`, [
        key,
      ]);
    }
  }

  // I5, as the listings see it: GET /stores, /foods and /agents read maintained counts
  // (packet_count per store and food, agent_count per store) instead of the rows; each must equal
  // the rows it counts, in this one snapshot.
  const [countRows] = await db.query<RowDataPacket[]>(
    `SELECT CONCAT(store_id, ':', food_id) AS k, total, assigned FROM \`${o.storeDb}\`.packet_count`,
  );
  const [packetRows] = await db.query<RowDataPacket[]>(
    `SELECT CONCAT(store_id, ':', food_id) AS k, COUNT(*) AS total, COUNT(CASE WHEN state = 'ASSIGNED' THEN 1 END) AS assigned
       FROM \`${o.storeDb}\`.packet GROUP BY store_id, food_id`,
  );
  compareCounts('packet_count of dark store and food', countRows, packetRows, flag);
  const [agentCounts] = await db.query<RowDataPacket[]>(`SELECT store_id AS k, total, assigned FROM \`${o.deliveryDb}\`.agent_count`);
  const [agentRows] = await db.query<RowDataPacket[]>(
    `SELECT store_id AS k, COUNT(*) AS total, COUNT(CASE WHEN state = 'ASSIGNED' THEN 1 END) AS assigned
       FROM \`${o.deliveryDb}\`.agent GROUP BY store_id`,
  );
  compareCounts('agent_count of dark store', agentCounts, agentRows, flag);

  const orderCounts = Object.fromEntries([...countBy(orders, (r) => r.state)]);
  return {
    violations,
    orders: orderCounts,
    pending: orders.filter((r) => IN_FLIGHT.includes(r.state)).length,
    packets: await holdCounts(db, `\`${o.storeDb}\`.packet`),
    agents: await holdCounts(db, `\`${o.deliveryDb}\`.agent`),
  };
}

async function holdCounts(db: Connection, table: string): Promise<HoldCounts> {
  const [rows] = await db.query<RowDataPacket[]>(`SELECT state, COUNT(*) AS n FROM ${table} GROUP BY state`);
  return tallyHoldCounts(rows as { state: string; n: number }[]);
}

function describe(row: HoldRow | undefined): string {
  return row ? `${row.id} ${row.state}` : 'none';
}

function describeAll(rows: HoldRow[]): string {
  return rows.length === 0 ? 'none' : rows.map((row) => `${row.id} ${row.state} (store ${row.store_id})`).join(', ');
}

/**
 * Whether `held` (the packet rows of an order) is exactly its cart, assigned: as many packets of
 * each line's food as the line asks for, no other, and the very ones the order logged.
 */
function holdsItsCart(order: { items: OrderLine[] }, held: HoldRow[]): boolean {
  const logged = order.items.flatMap((line) => line.packetIds).sort((a, b) => a - b);
  const rows = held.map((row) => Number(row.id)).sort((a, b) => a - b);
  const asked = order.items.every((line) => held.filter((row) => Number(row.food_id) === line.foodId).length === line.quantity);
  return (
    asked &&
    held.every((row) => row.state === 'ASSIGNED') &&
    held.length === order.items.reduce((sum, line) => sum + line.quantity, 0) &&
    JSON.stringify(logged) === JSON.stringify(rows)
  );
}

/** Flags every key whose maintained count differs from the rows it counts (or has no count row for rows it should count). */
function compareCounts(
  what: string,
  counted: RowDataPacket[],
  rows: RowDataPacket[],
  flag: (i: 'I5', m: string, ids: string[]) => void,
): void {
  const byKey = new Map(counted.map((row) => [String(row.k), row]));
  const rowsByKey = new Map(rows.map((row) => [String(row.k), row]));
  for (const key of new Set([...byKey.keys(), ...rowsByKey.keys()])) {
    const count = byKey.get(key);
    const real = { total: Number(rowsByKey.get(key)?.total ?? 0), assigned: Number(rowsByKey.get(key)?.assigned ?? 0) };
    if (!count) {
      if (real.total > 0) flag('I5', `${what} ${key} has no count row (${real.total} rows)`, [key]);
    } else if (Number(count.total) !== real.total || Number(count.assigned) !== real.assigned) {
      flag('I5', `${what} ${key}: counted ${count.total}, ${count.assigned} assigned; the rows, ${real.total} and ${real.assigned}`, [key]);
    }
  }
}

function groupBy<T>(rows: T[], key: (row: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) groups.set(key(row), [...(groups.get(key(row)) ?? []), row]);
  return groups;
}

function countBy<T>(rows: T[], key: (row: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const row of rows) counts.set(key(row), (counts.get(key(row)) ?? 0) + 1);
  return counts;
}

/** Every partition's own report, and what crosses partitions (I9). */
export interface PartitionsReport {
  partitions: Record<string, CheckReport>;
  /** I9 only: the invariants within a partition are in its own report. */
  violations: Violation[];
}

/** The databases of one partition, on the server of `options`. */
export function partitionOptions(options: CheckOptions, partition: Partition): CheckOptions {
  const { store, delivery, order } = partition.databases;
  return { ...options, storeDb: store, deliveryDb: delivery, orderDb: order };
}

/**
 * Checks each partition of `map` on its own (I1-I8), then I9, nothing crosses partitions: every
 * order, packet and agent of a partition is of a store of its range; no order id is in two
 * partitions; and, given ORDER_ID_SECRET, every order is in the partition whose key signed its id.
 * Reads every partition's databases on the one server of `options` (a deployment whose partitions
 * have servers of their own runs the checker per partition, with PARTITION set).
 */
export async function checkPartitions(map: PartitionMap, options: CheckOptions, orderIdSecret?: string): Promise<PartitionsReport> {
  const partitions: Record<string, CheckReport> = {};
  for (const partition of map.partitions) partitions[partition.name] = await checkInvariants(partitionOptions(options, partition));
  const violations: Violation[] = [];
  const flag = (message: string, ids: (string | number)[]) => violations.push({ invariant: 'I9', message, ids: ids.map(String) });
  const db = await connectUtc({ host: options.host, port: options.port, user: options.user, password: options.password });
  try {
    const partitionOf = new Map<string, string>();
    for (const partition of map.partitions) {
      const { name, stores, databases } = partition;
      const range = [stores.from, stores.to];
      const [orders] = await db.query<OrderRow[]>(`SELECT id, store_id FROM \`${databases.order}\`.orders`);
      const strangers = orders.filter((o) => o.store_id !== null && (o.store_id < stores.from || o.store_id > stores.to));
      if (strangers.length > 0)
        flag(
          `partition ${name} holds orders of stores outside its range ${range.join('-')}`,
          strangers.map((o) => o.id),
        );
      const key = partition === map.default || !orderIdSecret ? orderIdSecret : partitionOrderIdSecret(orderIdSecret, name);
      const misplaced = key ? orders.filter((o) => !isMintedOrderId(o.id, key)) : [];
      if (misplaced.length > 0)
        flag(
          `partition ${name} holds orders whose id another partition's key signed`,
          misplaced.map((o) => o.id),
        );
      for (const order of orders) {
        const other = partitionOf.get(order.id);
        if (other) flag(`order ${order.id} is in partitions ${other} and ${name}`, [order.id]);
        partitionOf.set(order.id, name);
      }
      for (const [what, table] of [
        ['packets', `\`${databases.store}\`.packet`],
        ['agents', `\`${databases.delivery}\`.agent`],
      ]) {
        const [rows] = await db.query<RowDataPacket[]>(
          `SELECT store_id, COUNT(*) AS n FROM ${table} WHERE store_id NOT BETWEEN ? AND ? GROUP BY store_id`,
          range,
        );
        for (const row of rows)
          flag(`partition ${name} holds ${row.n} ${what} of dark store ${row.store_id}, outside its range`, [row.store_id]);
      }
    }
  } finally {
    await db.end();
  }
  return { partitions, violations };
}

export function formatPartitionsReport(report: PartitionsReport): string {
  const parts = Object.entries(report.partitions).map(
    ([name, part]) => `partition ${name}:\n  ${formatReport(part).split('\n').join('\n  ')}`,
  );
  const across = report.violations.map(
    (v) => `  ${v.invariant} ${v.message}: ${v.ids.slice(0, 20).join(', ')}${v.ids.length > 20 ? ', ...' : ''}`,
  );
  return [
    ...parts,
    `across partitions: ${report.violations.length === 0 ? 'violations: 0' : `violations: ${report.violations.length}`}`,
    ...across,
  ].join('\n');
}

/** Whether a partitions report holds no violation, in any partition or across them. */
export function partitionsClean(report: PartitionsReport): boolean {
  return report.violations.length === 0 && Object.values(report.partitions).every((part) => part.violations.length === 0);
}

export function formatReport(report: CheckReport): string {
  const lines = [
    `orders: ${JSON.stringify(report.orders)} (pending: ${report.pending})`,
    `packets: ${JSON.stringify(report.packets)}`,
    `agents: ${JSON.stringify(report.agents)}`,
    report.violations.length === 0 ? 'violations: 0' : `violations: ${report.violations.length}`,
    ...report.violations.map((v) => `  ${v.invariant} ${v.message}: ${v.ids.slice(0, 20).join(', ')}${v.ids.length > 20 ? ', ...' : ''}`),
  ];
  return lines.join('\n');
}

if (require.main === module) {
  // The same .env the apps read, so the checker looks at the databases they use.
  loadDotenv({ quiet: true });
  checkFromEnv()
    .then(({ text, clean }) => {
      console.log(text);
      process.exit(clean ? 0 : 1);
    })
    .catch((err: Error) => {
      console.error(`check failed: ${err.message}`);
      process.exit(2);
    });
}

/**
 * `npm run check`: the databases of .env; with PARTITION_MAP (or `-- --partitions N`, the partitions
 * of `npm start -- --partitions N`), every partition and across them, or with PARTITION too, that
 * partition only (on its own server, DB_HOST).
 */
async function checkFromEnv(): Promise<{ text: string; clean: boolean }> {
  const options = optionsFromEnv();
  const local = partitionCount();
  if (local > 0) process.env.PARTITION_MAP = JSON.stringify({ partitions: localPartitions(local, process.env) });
  if (!process.env.PARTITION_MAP) {
    const report = await checkInvariants(options);
    return { text: formatReport(report), clean: report.violations.length === 0 };
  }
  const map = new PartitionMap(parsePartitionMap(process.env.PARTITION_MAP), true);
  const only = process.env.PARTITION ? map.named(process.env.PARTITION) : undefined;
  if (process.env.PARTITION && !only)
    throw new Error(`PARTITION=${process.env.PARTITION} is not in PARTITION_MAP (${map.names.join(', ')})`);
  if (only) {
    const report = await checkInvariants(partitionOptions(options, only));
    return { text: `partition ${only.name}:\n${formatReport(report)}`, clean: report.violations.length === 0 };
  }
  const report = await checkPartitions(map, options, process.env.ORDER_ID_SECRET);
  return { text: formatPartitionsReport(report), clean: partitionsClean(report) };
}
