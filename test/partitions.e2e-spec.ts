import { OrderPattern, Queue, StorePattern, DeliveryPattern } from '@app/contracts';
import { call, rmqClientOptions } from '@app/platform';
import { ClientProxyFactory } from '@nestjs/microservices';
import { RowDataPacket } from 'mysql2/promise';
import { PartitionedTestSystem } from './support/harness';

/**
 * Two partitions behind one gateway, each a store, delivery and order service with queues and
 * databases of its own: an order runs wholly in the partition of its store (I9), a partition that
 * is down answers 503 for its own stores only, and the global listings say which partition did not
 * answer instead of failing.
 */

jest.setTimeout(60_000);

const t = new PartitionedTestSystem('partitions', 3916, [
  { name: 'p1', from: 1, to: 999 },
  { name: 'p2', from: 1000, to: 1001 },
]);
const [p1, p2] = ['p1', 'p2'].map((name) => t.partitions.get(name)!);

beforeAll(() => t.start());
afterAll(() => t.stop());

/** Messages of `pattern` a service of the partition has handled, from its /metrics. */
async function handled(partition: typeof p1, service: 'order' | 'store' | 'delivery', pattern: string): Promise<number> {
  return metricSum(partition, service, 'rpc_messages_total', { pattern });
}

/** The orders a participant committed in batches of `pattern` (the sum of its batch_size per transaction). */
async function batched(partition: typeof p1, service: 'store' | 'delivery', pattern: string): Promise<number> {
  return metricSum(partition, service, 'batch_size_sum', { hop: pattern, unit: 'transaction' });
}

/** The sum of a metric's samples whose labels include `labels`, from one service's /metrics. */
async function metricSum(
  partition: typeof p1,
  service: 'order' | 'store' | 'delivery',
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const port = partition.env[`${service.toUpperCase()}_METRICS_PORT`];
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  const lines = text.split('\n').filter((line) => line.startsWith(`${name}{`) && wanted.every((label) => line.includes(label)));
  return lines.reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}

async function rows(sql: string): Promise<RowDataPacket[]> {
  return t.query<RowDataPacket>(sql);
}

describe('two partitions', () => {
  let food: number;
  let north: number;
  let south: number;
  const southOrders: string[] = [];

  it('shows each partition in /health, and creates each store in its partition’s range and a food in both under one id', async () => {
    const health = await t.get('/health');
    expect(health.status).toBe(200);
    expect(Object.keys(health.body.info)).toEqual(
      expect.arrayContaining(['p1.order', 'p1.store_database', 'p2.order', 'p2.delivery', 'p2.delivery_database']),
    );

    const created = await t.post('/foods', { name: 'Masala Dosa', packets: 0 });
    expect(created.status).toBe(201);
    food = created.body.id;
    for (const { partition } of [p1, p2]) {
      expect(await rows(`SELECT id, name FROM ${partition.databases.store}.food`)).toEqual([{ id: food, name: 'Masala Dosa' }]);
    }

    const a = await t.post('/stores', { name: 'Koramangala' });
    const b = await t.post('/stores', { name: 'Jayanagar', partition: 'p2' });
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(a.body).toEqual({ id: 2, name: 'Koramangala', partition: 'p1' });
    expect(b.body).toEqual({ id: 1000, name: 'Jayanagar', partition: 'p2' });
    [north, south] = [a.body.id, b.body.id];
    const unknown = await t.post('/stores', { name: 'Whitefield', partition: 'p9' });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ code: 'PARTITION_NOT_FOUND', message: 'No partition is named "p9"; the partitions are p1, p2' });

    for (const store of [north, south]) {
      expect((await t.post(`/stores/${store}/packets`, { foodId: food, count: 30 })).status).toBe(201);
      expect((await t.post(`/stores/${store}/agents`, { count: 10 })).status).toBe(201);
    }
    // A store id no partition owns is no store at all.
    expect((await t.get('/stores/5000')).status).toBe(404);
  });

  it('refuses a store once its partition’s range is used up, and every store outside its range at the store service', async () => {
    expect((await t.post('/stores', { name: 'HSR Layout', partition: 'p2' })).body.id).toBe(1001);
    const full = await t.post('/stores', { name: 'BTM Layout', partition: 'p2' });
    expect(full.status).toBe(409);
    expect(full.body).toMatchObject({ code: 'STORE_RANGE_FULL', message: 'Every dark store id of this partition (1000 to 1001) is taken' });
    expect((await t.post('/stores', { name: 'BTM Layout', partition: 'p1' })).body.id).toBe(3);

    // Asked directly, partition 2's store service knows neither partition 1's stores nor the default
    // store, whose row every store database has.
    const client = ClientProxyFactory.create(rmqClientOptions({ ...t.rmq, queuePrefix: p2.partition.queuePrefix }, Queue.STORE_ADMIN));
    try {
      for (const storeId of [1, north]) {
        await expect(call(client, StorePattern.LIST_STORES, { storeId }, 2000)).rejects.toMatchObject({ code: 'STORE_NOT_FOUND' });
        const add = { storeId, foodId: food, count: 1, idempotencyKey: `stray-${storeId}` };
        await expect(call(client, StorePattern.ADD_PACKETS, add, 2000)).rejects.toMatchObject({ code: 'STORE_NOT_FOUND' });
      }
      const stores = await call<{ id: number }[]>(client, StorePattern.LIST_STORES, {}, 2000);
      expect(stores.map((store) => store.id)).toEqual([south, 1001]);
    } finally {
      await client.close();
    }
  });

  it('runs an order of partition 1 wholly in partition 1: its databases, its queues', async () => {
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => t.post('/orders', { storeId: north, items: [{ foodId: food, quantity: 2 }] })),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(6).fill(201));
    for (const { body } of answers)
      expect((await t.get(`/orders/${body.orderId}`)).body).toMatchObject({ state: 'PLACED', storeId: north });

    const [[placed1], [placed2]] = await Promise.all(
      [p1, p2].map(({ partition }) => rows(`SELECT COUNT(*) AS n FROM ${partition.databases.order}.orders`)),
    );
    expect([Number(placed1.n), Number(placed2.n)]).toEqual([6, 0]);
    expect(await rows(`SELECT state, COUNT(*) AS n FROM ${p2.partition.databases.store}.packet GROUP BY state`)).toEqual([
      { state: 'FREE', n: 30 },
    ]);
    expect(await rows(`SELECT COUNT(*) AS n FROM ${p1.partition.databases.store}.packet WHERE state = 'ASSIGNED'`)).toEqual([{ n: 12 }]);
    expect(await rows(`SELECT COUNT(*) AS n FROM ${p2.partition.databases.delivery}.agent WHERE state <> 'FREE'`)).toEqual([{ n: 0 }]);
    // Only partition 1's queues carried the orders' messages, in batches: each batch counts its orders once.
    expect(await handled(p1, 'order', OrderPattern.PLACE_ORDERS)).toBeGreaterThanOrEqual(1);
    expect(await batched(p1, 'store', StorePattern.RESERVE_CARTS)).toBe(6);
    expect(await batched(p1, 'delivery', DeliveryPattern.RESERVE_AGENTS)).toBe(6);
    for (const service of ['order', 'store', 'delivery'] as const) {
      const pattern = { order: OrderPattern.PLACE_ORDERS, store: StorePattern.RESERVE_CARTS, delivery: DeliveryPattern.RESERVE_AGENTS }[
        service
      ];
      expect(await handled(p2, service, pattern)).toBe(0);
    }

    const south1 = await t.post('/orders', { storeId: south, items: [{ foodId: food, quantity: 1 }] });
    expect(south1.status).toBe(201);
    southOrders.push(south1.body.orderId);
    // The id alone leads to partition 2, which holds the order.
    expect((await t.get(`/orders/${south1.body.orderId}`)).body).toMatchObject({ state: 'PLACED', storeId: south });
    expect(await rows(`SELECT id FROM ${p2.partition.databases.order}.orders`)).toEqual([{ id: south1.body.orderId }]);
  });

  it('answers 503 for the stores of a partition that is down, and only for them', async () => {
    await p2.system.stopAll();

    const refused = await t.post('/orders', { storeId: south, items: [{ foodId: food, quantity: 1 }] });
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ code: 'SERVICE_UNAVAILABLE', state: 'NOT_PLACED' });
    expect((await t.get(`/stores/${south}`)).status).toBe(503);
    expect((await t.get(`/orders/${southOrders[0]}`)).status).toBe(503);

    const placed = await Promise.all(
      Array.from({ length: 4 }, () => t.post('/orders', { storeId: north, items: [{ foodId: food, quantity: 1 }] })),
    );
    expect(placed.map((a) => a.status)).toEqual(Array(4).fill(201));
    expect((await t.get(`/stores/${north}`)).status).toBe(200);

    const listing = await t.get('/stores');
    expect(listing.status).toBe(200);
    expect(listing.body.unavailable).toEqual(['p2']);
    expect(listing.body.stores.map((s: { id: number }) => s.id)).toEqual([1, north, 3]);

    const health = await t.get('/health');
    expect(health.status).toBe(503);
    expect(Object.keys(health.body.error)).toEqual(expect.arrayContaining(['p2.order', 'p2.store', 'p2.delivery']));
    expect(Object.keys(health.body.error).some((key) => key.startsWith('p1.'))).toBe(false);
  });

  it('keeps every invariant in each partition, and nothing crosses them', async () => {
    const report = await t.settledPartitions();
    expect(report.violations).toEqual([]);
    expect(report.partitions.p1).toMatchObject({ violations: [], pending: 0, orders: { PLACED: 10 } });
    expect(report.partitions.p2).toMatchObject({ violations: [], pending: 0, orders: { PLACED: 1 } });
  });
});
