import { DatabaseEnv, dataSourceOptions, ensureDatabase, runMigrations } from '@app/database';
import { DataSource } from 'typeorm';
import { v7 } from 'uuid';
import { DeliverySchema1763769600000 } from '../apps/delivery/src/database/migrations/1763769600000-delivery-schema';
import { AgentHoldAttempt1764720000000 } from '../apps/delivery/src/database/migrations/1764720000000-agent-hold-attempt';
import { AgentCount1765152000000 } from '../apps/delivery/src/database/migrations/1765152000000-agent-count';
import { AgentAddition1765152000001 } from '../apps/delivery/src/database/migrations/1765152000001-agent-addition';
import { OrderSchema1763769600000 } from '../apps/order/src/database/migrations/1763769600000-order-schema';
import { OrderLogTriggers1763856000000 } from '../apps/order/src/database/migrations/1763856000000-order-log-triggers';
import { OrderIdempotencyKey1764028800000 } from '../apps/order/src/database/migrations/1764028800000-order-idempotency-key';
import { OrderLeaseOwner1764720000000 } from '../apps/order/src/database/migrations/1764720000000-order-lease-owner';
import { StoreSchema1763769600000 } from '../apps/store/src/database/migrations/1763769600000-store-schema';
import { PacketCount1765152000000 } from '../apps/store/src/database/migrations/1765152000000-packet-count';
import { StockAddition1765152000001 } from '../apps/store/src/database/migrations/1765152000001-stock-addition';
import { TestSystem } from './support/harness';

/**
 * An upgrade: databases made by the migrations before dark stores, holding stock, staff and orders
 * in every state, then the system of today started on them. Every packet and agent is kept, in the
 * default store; every order reads as a cart of one line; the invariants hold, and ordering goes on.
 */

jest.setTimeout(120_000);

const t = new TestSystem('upgrade', 3915, { LEASE_MS: '8000' });

/** The migrations each service had before dark stores, run as its start-up ran them. */
const BEFORE = {
  store: [StoreSchema1763769600000, PacketCount1765152000000, StockAddition1765152000001],
  delivery: [DeliverySchema1763769600000, AgentHoldAttempt1764720000000, AgentCount1765152000000, AgentAddition1765152000001],
  orders: [OrderSchema1763769600000, OrderLogTriggers1763856000000, OrderIdempotencyKey1764028800000, OrderLeaseOwner1764720000000],
};

const [placed, delivered, deciding, refused] = [v7(), v7(), v7(), v7()];

async function migrateAsBefore(database: string, migrations: (typeof BEFORE)['store']): Promise<void> {
  const env = Object.assign(new DatabaseEnv(), { DB_HOST: '127.0.0.1' });
  await ensureDatabase(env, database);
  const dataSource = new DataSource(dataSourceOptions(env, database, [], migrations));
  await dataSource.initialize();
  try {
    await runMigrations(dataSource, `${database}_migrations`);
  } finally {
    await dataSource.destroy();
  }
}

/** Stock, staff and orders as the system before dark stores left them: one placed, one delivered, one deciding, one refused. */
async function fillAsBefore(): Promise<void> {
  const [store, delivery, orders] = [t.env.STORE_DB_NAME, t.env.DELIVERY_DB_NAME, t.env.ORDER_DB_NAME];
  await migrateAsBefore(store, BEFORE.store);
  await migrateAsBefore(delivery, BEFORE.delivery);
  await migrateAsBefore(orders, BEFORE.orders);
  await t.query(`INSERT INTO ${store}.food (id, name) VALUES (1, 'Masala Dosa'), (2, 'Idli')`);
  await t.query(`INSERT INTO ${store}.packet (id, food_id) VALUES (1, 1), (2, 1), (3, 1), (4, 1), (5, 1), (6, 2), (7, 2), (8, 2)`);
  await t.query(`UPDATE ${store}.packet SET state = 'ASSIGNED', order_id = ? WHERE id = 1`, [placed]);
  await t.query(`UPDATE ${store}.packet SET state = 'ASSIGNED', order_id = ? WHERE id = 2`, [delivered]);
  await t.query(`UPDATE ${store}.packet SET state = 'RESERVED', order_id = ?, reserved_until = NOW(3) + INTERVAL 1 HOUR WHERE id = 3`, [
    deciding,
  ]);
  await t.query(`INSERT INTO ${store}.packet_count (food_id, total, assigned) VALUES (1, 5, 2), (2, 3, 0)`);
  await t.query(`INSERT INTO ${delivery}.agent (id) VALUES (1), (2), (3), (4)`);
  await t.query(`UPDATE ${delivery}.agent SET state = 'ASSIGNED', order_id = ? WHERE id = 1`, [placed]);
  await t.query(
    `UPDATE ${delivery}.agent SET state = 'RESERVED', order_id = ?, reserved_until = NOW(3) + INTERVAL 1 HOUR, hold_attempt = 1 WHERE id = 2`,
    [deciding],
  );
  await t.query(`UPDATE ${delivery}.agent_count SET total = 4, assigned = 1 WHERE id = 1`);
  const order = `INSERT INTO ${orders}.orders (id, food_id, state, reason, packet_id, agent_id, lease_until) VALUES (?, ?, ?, ?, ?, ?, NOW(3) - INTERVAL 1 SECOND)`;
  await t.query(order, [placed, 1, 'PLACED', null, 1, 1]);
  await t.query(order, [delivered, 1, 'DELIVERED', null, 2, null]);
  // Left deciding by a driver that died: recovery aborts it once the new system runs.
  await t.query(order, [deciding, 1, 'RESERVING', null, null, null]);
  await t.query(order, [refused, 2, 'NOT_PLACED', 'NO_AGENT', null, null]);
}

beforeAll(() => t.start(fillAsBefore));
afterAll(() => t.stop());

it('keeps every packet, agent and order of a database made before dark stores, in the default store, and goes on ordering', async () => {
  const report = await t.settled(30_000);
  expect(report.violations).toEqual([]);
  expect(report.orders).toEqual({ PLACED: 1, DELIVERED: 1, NOT_PLACED: 2 });

  const packets = await t.query(`SELECT id, store_id AS storeId, food_id AS foodId, state FROM ${t.env.STORE_DB_NAME}.packet ORDER BY id`);
  expect(packets).toHaveLength(8);
  expect(packets.every((p) => p.storeId === 1)).toBe(true);
  expect(packets.filter((p) => p.state === 'ASSIGNED').map((p) => p.id)).toEqual([1, 2]);
  const agents = await t.query(`SELECT id, store_id AS storeId, state FROM ${t.env.DELIVERY_DB_NAME}.agent ORDER BY id`);
  expect(agents.map((a) => [a.id, a.storeId, a.state])).toEqual([
    [1, 1, 'ASSIGNED'],
    [2, 1, 'FREE'],
    [3, 1, 'FREE'],
    [4, 1, 'FREE'],
  ]);

  expect((await t.get(`/orders/${placed}`)).body).toMatchObject({
    state: 'PLACED',
    storeId: 1,
    items: [{ foodId: 1, quantity: 1, packetIds: [1] }],
    foodId: 1,
    packetId: 1,
    agentId: 1,
  });
  expect((await t.get(`/orders/${refused}`)).body).toMatchObject({
    state: 'NOT_PLACED',
    reason: 'NO_AGENT',
    storeId: 1,
    items: [{ foodId: 2, quantity: 1, packetIds: [] }],
  });
  expect((await t.get('/stores/1')).body).toMatchObject({
    id: 1,
    agents: { free: 3, reserved: 0, assigned: 1, total: 4 },
    foods: [
      { id: 1, name: 'Masala Dosa', packets: { free: 3, reserved: 0, assigned: 2, total: 5 } },
      { id: 2, name: 'Idli', packets: { free: 3, reserved: 0, assigned: 0, total: 3 } },
    ],
  });

  const next = await t.post('/orders', { foodId: 2 });
  expect(next.body).toMatchObject({ state: 'PLACED', storeId: 1, foodId: 2 });
  expect((await t.settled()).violations).toEqual([]);
});
