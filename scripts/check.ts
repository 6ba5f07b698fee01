import { HoldCounts, tallyHoldCounts } from '@app/contracts';
import { connectUtc } from '@app/database';
import { config as loadDotenv } from 'dotenv';
import { Connection, RowDataPacket } from 'mysql2/promise';

/**
 * The invariant checker of shared/INVARIANTS.md (I1, I2, I3, I5, and under I5 the maintained counts
 * the listings read), reading the three services' databases directly. Tests, the benchmark and operators (`npm run check`) all use this one definition.
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
  /** This checker finds I1, I2, I3 and I5; answers.ts I4, and the runs that wait for it I6. */
  invariant: 'I1' | 'I2' | 'I3' | 'I4' | 'I5' | 'I6';
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
  food_id: number;
  state: string;
  packet_id: number | null;
  agent_id: number | null;
}
interface HoldRow extends RowDataPacket {
  id: number;
  order_id: string;
  state: string;
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
    `SELECT id, order_id, state, food_id FROM \`${o.storeDb}\`.packet WHERE order_id IS NOT NULL`,
  );
  const [agents] = await db.query<HoldRow[]>(`SELECT id, order_id, state FROM \`${o.deliveryDb}\`.agent WHERE order_id IS NOT NULL`);
  const [orders] = await db.query<OrderRow[]>(`SELECT id, food_id, state, packet_id, agent_id FROM \`${o.orderDb}\`.orders`);

  // I1: no double use. The unique keys make it impossible; this proves they are there and held.
  for (const [what, rows] of [
    ['packet', packets],
    ['agent', agents],
  ] as const) {
    const byOrder = groupBy(rows, (r) => r.order_id);
    for (const [orderId, held] of byOrder) {
      if (held.length > 1) flag('I1', `order holds ${held.length} ${what}s`, [orderId, ...held.map((h) => h.id)]);
    }
  }
  const holding = orders.filter((r) => HOLDING.includes(r.state));
  for (const [packetId, sharing] of groupBy(holding, (r) => String(r.packet_id))) {
    if (sharing.length > 1)
      flag(
        'I1',
        `packet ${packetId} is assigned to ${sharing.length} orders`,
        sharing.map((r) => r.id),
      );
  }
  const withAgent = orders.filter((r) => r.state === 'PLACED');
  for (const [agentId, sharing] of groupBy(withAgent, (r) => String(r.agent_id))) {
    if (sharing.length > 1)
      flag(
        'I1',
        `agent ${agentId} is assigned to ${sharing.length} placed orders`,
        sharing.map((r) => r.id),
      );
  }

  // I2: all or nothing.
  const packetOf = new Map(packets.map((p) => [p.order_id, p]));
  const agentOf = new Map(agents.map((a) => [a.order_id, a]));
  const known = new Map(orders.map((r) => [r.id, r]));
  for (const order of orders) {
    const packet = packetOf.get(order.id);
    const agent = agentOf.get(order.id);
    const packetOk = packet?.state === 'ASSIGNED' && Number(packet.id) === Number(order.packet_id);
    const agentOk = agent?.state === 'ASSIGNED' && Number(agent.id) === Number(order.agent_id);
    if (order.state === 'PLACED' && !(packetOk && agentOk)) {
      flag('I2', `PLACED order lacks its assigned packet or agent (packet: ${describe(packet)}, agent: ${describe(agent)})`, [order.id]);
    } else if (order.state === 'DELIVERED' && (!packetOk || agent)) {
      flag('I2', `DELIVERED order should hold its packet and no agent (packet: ${describe(packet)}, agent: ${describe(agent)})`, [
        order.id,
      ]);
    } else if (order.state === 'DELIVERING' && !packetOk) {
      flag('I2', `DELIVERING order lacks its assigned packet (${describe(packet)})`, [order.id]);
    } else if (order.state === 'NOT_PLACED' && (packet || agent)) {
      flag('I2', `NOT_PLACED order still holds something (packet: ${describe(packet)}, agent: ${describe(agent)})`, [order.id]);
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

  // I5: conservation. Rows change state, never number: what is assigned is exactly what settled orders hold.
  const placedByFood = countBy(holding, (r) => String(r.food_id));
  const assignedByFood = countBy(
    packets.filter((p) => p.state === 'ASSIGNED'),
    (p) => String(p.food_id),
  );
  for (const food of new Set([...placedByFood.keys(), ...assignedByFood.keys()])) {
    const placed = placedByFood.get(food) ?? 0;
    const assigned = assignedByFood.get(food) ?? 0;
    const inFlight = orders.filter((r) => String(r.food_id) === food && IN_FLIGHT.includes(r.state) && r.state !== 'DELIVERING').length;
    if (assigned < placed || assigned > placed + inFlight) {
      flag('I5', `food ${food}: ${assigned} packets assigned for ${placed} placed orders (${inFlight} in flight)`, [food]);
    }
  }

  // I5, as the listings see it: GET /foods and GET /agents read maintained counts (packet_count,
  // agent_count) instead of the rows; each must equal the rows it counts, in this one snapshot.
  const [foodRows] = await db.query<RowDataPacket[]>(
    `SELECT f.id, c.total, c.assigned FROM \`${o.storeDb}\`.food f LEFT JOIN \`${o.storeDb}\`.packet_count c ON c.food_id = f.id`,
  );
  const [packetRows] = await db.query<RowDataPacket[]>(
    `SELECT food_id, COUNT(*) AS total, COUNT(CASE WHEN state = 'ASSIGNED' THEN 1 END) AS assigned
       FROM \`${o.storeDb}\`.packet GROUP BY food_id`,
  );
  const rowsOfFood = new Map(packetRows.map((r) => [Number(r.food_id), r]));
  for (const food of foodRows) {
    const rows = rowsOfFood.get(Number(food.id));
    const counted = { total: Number(rows?.total ?? 0), assigned: Number(rows?.assigned ?? 0) };
    if (food.total === null) flag('I5', `food ${food.id} has no packet_count row (${counted.total} packets)`, [food.id]);
    else if (Number(food.total) !== counted.total || Number(food.assigned) !== counted.assigned) {
      flag(
        'I5',
        `food ${food.id}: packet_count says ${food.total} packets, ${food.assigned} assigned; the rows, ${counted.total} and ${counted.assigned}`,
        [food.id],
      );
    }
  }
  const [[agentCount]] = await db.query<RowDataPacket[]>(`SELECT total, assigned FROM \`${o.deliveryDb}\`.agent_count WHERE id = 1`);
  const [[agentRows]] = await db.query<RowDataPacket[]>(
    `SELECT COUNT(*) AS total, COUNT(CASE WHEN state = 'ASSIGNED' THEN 1 END) AS assigned FROM \`${o.deliveryDb}\`.agent`,
  );
  if (!agentCount) flag('I5', `agent_count has no row (${agentRows.total} agents)`, []);
  else if (Number(agentCount.total) !== Number(agentRows.total) || Number(agentCount.assigned) !== Number(agentRows.assigned)) {
    flag(
      'I5',
      `agent_count says ${agentCount.total} agents, ${agentCount.assigned} assigned; the rows, ${agentRows.total} and ${agentRows.assigned}`,
      [],
    );
  }

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
  checkInvariants(optionsFromEnv())
    .then((report) => {
      console.log(formatReport(report));
      process.exit(report.violations.length === 0 ? 0 : 1);
    })
    .catch((err: Error) => {
      console.error(`check failed: ${err.message}`);
      process.exit(2);
    });
}
