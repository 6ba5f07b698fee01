import { Queue } from '@app/contracts';
import { RowDataPacket } from 'mysql2/promise';
import { v7 } from 'uuid';
import { TestSystem } from './support/harness';
import { reservePacket } from './support/participants';

/**
 * Dark stores and carts on the real system: an order is a cart served by one store's packets and one
 * of its agents, all or nothing (I2, I8); contention in one store is honest (I7) and never touches
 * another; the old single-food API works on the default store.
 */

jest.setTimeout(120_000);

const t = new TestSystem('stores', 3914);

beforeAll(() => t.start());
afterAll(() => t.stop());
afterEach(async () => {
  const report = await t.settled();
  expect(report.violations).toEqual([]);
  expect(report.pending).toBe(0);
});

let names = 0;
const admin = {
  store: async (): Promise<number> => {
    const res = await t.post('/stores', { name: `Dark store ${++names}` });
    expect(res.status).toBe(201);
    return res.body.id;
  },
  food: async (): Promise<number> => {
    const res = await t.post('/foods', { name: `Food ${++names}`, packets: 0 });
    expect(res.status).toBe(201);
    return res.body.id;
  },
  packets: async (storeId: number, foodId: number, count: number) =>
    expect((await t.post(`/stores/${storeId}/packets`, { foodId, count })).status).toBe(201),
  agents: async (storeId: number, count: number) => expect((await t.post(`/stores/${storeId}/agents`, { count })).status).toBe(201),
};
type Line = { foodId: number; quantity: number };
const cart = (storeId: number, items: Line[]) => t.post('/orders', { storeId, items });

/** The packets and the agent an order holds, each with its store, as the participants' rows say. */
async function holdings(orderId: string) {
  const packets = await t.query<RowDataPacket>(
    `SELECT id, store_id AS storeId, food_id AS foodId, state FROM ${t.env.STORE_DB_NAME}.packet WHERE order_id = ? ORDER BY id`,
    [orderId],
  );
  const agents = await t.query<RowDataPacket>(
    `SELECT id, store_id AS storeId, state FROM ${t.env.DELIVERY_DB_NAME}.agent WHERE order_id = ?`,
    [orderId],
  );
  return { packets, agents };
}

describe('dark stores', () => {
  it('creates a store, fills it with packets and agents, and lists it with its counts', async () => {
    const storeId = await admin.store();
    const foodId = await admin.food();
    await admin.packets(storeId, foodId, 7);
    await admin.agents(storeId, 3);

    const one = await t.get(`/stores/${storeId}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({
      id: storeId,
      agents: { free: 3, reserved: 0, assigned: 0, total: 3 },
      foods: expect.arrayContaining([{ id: foodId, name: expect.any(String), packets: { free: 7, reserved: 0, assigned: 0, total: 7 } }]),
    });
    expect((await t.get('/stores')).body).toContainEqual(one.body);
    expect((await t.get('/stores/999999')).body).toMatchObject({ code: 'STORE_NOT_FOUND' });
    expect((await t.post('/stores/999999/agents', { count: 1 })).status).toBe(404);
    expect((await t.post('/stores/999999/packets', { foodId, count: 1 })).body.code).toBe('STORE_NOT_FOUND');
  });

  it('places a cart: every packet it asked for and one agent, all of its store', async () => {
    const storeId = await admin.store();
    const [dosa, coffee] = [await admin.food(), await admin.food()];
    await admin.packets(storeId, dosa, 5);
    await admin.packets(storeId, coffee, 5);
    await admin.agents(storeId, 2);

    const res = await cart(storeId, [
      { foodId: dosa, quantity: 2 },
      { foodId: coffee, quantity: 1 },
    ]);

    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ state: 'PLACED', storeId, agentId: expect.any(Number) });
    const lines = res.body.items as { foodId: number; quantity: number; packetIds: number[] }[];
    expect(lines.map((l) => [l.foodId, l.quantity, l.packetIds.length])).toEqual([
      [dosa, 2, 2],
      [coffee, 1, 1],
    ]);
    const held = await holdings(res.body.orderId);
    expect(held.packets.map((p) => p.id).sort()).toEqual(lines.flatMap((l) => l.packetIds).sort());
    expect(held.packets.every((p) => p.storeId === storeId && p.state === 'ASSIGNED')).toBe(true);
    expect(held.agents).toEqual([{ id: res.body.agentId, storeId, state: 'ASSIGNED' }]);
    const view = await t.get(`/orders/${res.body.orderId}`);
    expect(view.body).toMatchObject({ state: 'PLACED', storeId, agentId: res.body.agentId, items: lines });
  });

  it('places exactly as many concurrent carts as the scarce food allows; the rest are refused naming it; another store is untouched (I7)', async () => {
    const [a, b] = [await admin.store(), await admin.store()];
    const [plenty, scarce] = [await admin.food(), await admin.food()];
    await admin.packets(a, plenty, 100);
    await admin.packets(a, scarce, 10);
    await admin.agents(a, 40);
    await admin.packets(b, scarce, 5);
    await admin.agents(b, 5);
    const before = (await t.get(`/stores/${b}`)).body;

    const answers = await Promise.all(
      Array.from({ length: 12 }, () =>
        cart(a, [
          { foodId: plenty, quantity: 1 },
          { foodId: scarce, quantity: 2 },
        ]),
      ),
    );

    const placed = answers.filter((r) => r.status === 201);
    const refused = answers.filter((r) => r.status === 409);
    expect(placed).toHaveLength(5);
    expect(refused).toHaveLength(7);
    for (const r of refused) {
      expect(r.body).toMatchObject({ code: 'OUT_OF_STOCK', state: 'NOT_PLACED', details: [{ foodId: scarce, missing: 2 }] });
    }
    expect((await t.get(`/stores/${b}`)).body).toEqual(before);
  });

  it('never refuses an order of one store for contention in another: store B places every cart it can serve while store A is oversubscribed (I7)', async () => {
    const [a, b] = [await admin.store(), await admin.store()];
    const food = await admin.food();
    await admin.packets(a, food, 4);
    await admin.agents(a, 4);
    await admin.packets(b, food, 8);
    await admin.agents(b, 8);

    // A: 16 carts for 4 packets, most of them waiting on one another; B: 8 carts for 8 packets, sent among them.
    const answers = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        cart(i % 3 === 2 ? b : a, [{ foodId: food, quantity: 1 }]).then((r) => ({ store: i % 3 === 2 ? b : a, r })),
      ),
    );

    const placedIn = (store: number) => answers.filter((x) => x.store === store && x.r.status === 201).length;
    expect(placedIn(a)).toBe(4);
    expect(placedIn(b)).toBe(8);
    expect(answers.filter((x) => x.store === b && x.r.status !== 201).map((x) => x.r.body)).toEqual([]);
  });

  it('never delays an order of one store for contention in another: store B places a cart while carts of store A wait for a packet on its way back (I7)', async () => {
    const [a, b] = [await admin.store(), await admin.store()];
    const food = await admin.food();
    for (const store of [a, b]) {
      await admin.packets(store, food, 1);
      await admin.agents(store, 1);
    }
    // A stray reservation holds A's only packet until it expires (RESERVATION_TTL_MS, 3 s here): carts
    // of A are then contended, neither placeable nor refusable, and their coordinator asks again. More
    // of them than the gateway keeps order batches in flight (ORDER_BATCHES_IN_FLIGHT, 1 by default).
    const heldPacket = await reservePacket(t.client(Queue.STORE), v7(), food, 5000, a);
    let answeredA = 0;
    const waitingA = Array.from({ length: 8 }, () => cart(a, [{ foodId: food, quantity: 1 }]).then((r) => (answeredA++, r)));
    // As many as the gateway's order batches in flight: before batches answered each order as it
    // settled, these alone held every batch place, and B's cart waited for them.
    await t.until(
      async () =>
        (await t.query(`SELECT id FROM ${t.env.ORDER_DB_NAME}.orders WHERE store_id = ? AND state = 'RESERVING'`, [a])).length >= 4,
      5000,
      "A's carts in phase 1",
    );

    // B's cart goes through the same gateway, services, batches and databases while A's are contended.
    const placedB = await cart(b, [{ foodId: food, quantity: 1 }]);
    expect(placedB.status).toBe(201);
    expect(answeredA).toBe(0);

    // Once the stray reservation expires, one cart of A takes that very packet; the others are refused.
    const answers = await Promise.all(waitingA);
    const placedA = answers.filter((r) => r.status === 201);
    expect(placedA.map((r) => r.body.items)).toEqual([[{ foodId: food, quantity: 1, packetIds: [heldPacket] }]]);
    expect(answers.filter((r) => r.status === 409).map((r) => r.body.code)).toEqual(Array(7).fill('OUT_OF_STOCK'));
  });

  it('never gives an order an agent of another store: NO_AGENT while another store has free agents (I8)', async () => {
    const [a, b] = [await admin.store(), await admin.store()];
    const foodId = await admin.food();
    await admin.packets(a, foodId, 3);
    await admin.agents(b, 3);

    const res = await cart(a, [{ foodId, quantity: 1 }]);

    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ code: 'NO_AGENT', state: 'NOT_PLACED' });
    expect((await t.get(`/stores/${b}`)).body.agents).toMatchObject({ free: 3, total: 3 });
    expect((await t.get(`/stores/${a}`)).body.foods).toContainEqual(
      expect.objectContaining({ id: foodId, packets: expect.objectContaining({ free: 3 }) }),
    );
  });

  it('refuses a cart whose second food is short, holding nothing afterwards, and names how many were missing', async () => {
    const storeId = await admin.store();
    const [first, second] = [await admin.food(), await admin.food()];
    await admin.packets(storeId, first, 4);
    await admin.packets(storeId, second, 1);
    await admin.agents(storeId, 2);

    const res = await cart(storeId, [
      { foodId: first, quantity: 3 },
      { foodId: second, quantity: 3 },
    ]);

    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ code: 'OUT_OF_STOCK', details: [{ foodId: second, missing: 2 }] });
    expect(await holdings(res.body.orderId)).toEqual({ packets: [], agents: [] });
    expect((await t.get(`/stores/${storeId}`)).body).toMatchObject({ agents: { free: 2, total: 2 } });
  });

  it('places carts asking for the same foods in opposite orders side by side, without deadlock', async () => {
    const storeId = await admin.store();
    const [x, y] = [await admin.food(), await admin.food()];
    await admin.packets(storeId, x, 40);
    await admin.packets(storeId, y, 40);
    await admin.agents(storeId, 40);

    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        cart(
          storeId,
          i % 2
            ? [
                { foodId: x, quantity: 1 },
                { foodId: y, quantity: 1 },
              ]
            : [
                { foodId: y, quantity: 1 },
                { foodId: x, quantity: 1 },
              ],
        ),
      ),
    );

    expect(answers.map((r) => r.status)).toEqual(Array(40).fill(201));
  });

  it('refuses an unknown store with 404, and an unknown food with 409, recording a not-placed order', async () => {
    const storeId = await admin.store();
    const foodId = await admin.food();
    await admin.agents(storeId, 1);

    expect((await cart(999999, [{ foodId, quantity: 1 }])).body).toMatchObject({ code: 'STORE_NOT_FOUND' });
    expect((await cart(storeId, [{ foodId: 999999, quantity: 1 }])).body).toMatchObject({ code: 'UNKNOWN_FOOD', state: 'NOT_PLACED' });
  });

  it('answers 400 for an empty cart, a food listed twice, a quantity out of bounds, too many lines and a line that is not an object', async () => {
    const storeId = await admin.store();
    const foodId = await admin.food();
    const bad = [
      { storeId, items: [] },
      {
        storeId,
        items: [
          { foodId, quantity: 1 },
          { foodId, quantity: 2 },
        ],
      },
      { storeId, items: [{ foodId, quantity: 0 }] },
      { storeId, items: [{ foodId, quantity: 1_000_000 }] },
      { storeId, items: Array.from({ length: 1000 }, (_, i) => ({ foodId: i + 1, quantity: 1 })) },
      { storeId },
      { items: [{ foodId, quantity: 1 }] },
      { storeId, foodId },
      // A line that is not an object: nested validation alone passes an empty array.
      { storeId, items: [[]] },
      { storeId, items: [[{ foodId, quantity: 1 }]] },
      { storeId, items: [null] },
      { storeId, items: [7] },
    ];
    for (const body of bad) {
      const res = await t.post('/orders', body);
      expect({ body, status: res.status, code: res.body.code }).toEqual({ body, status: 400, code: 'VALIDATION_FAILED' });
    }
  });
});

describe('the single-food API', () => {
  it('orders one packet of a food from the default store, as before', async () => {
    const food = await t.post('/foods', { name: `Legacy ${++names}`, packets: 2 });
    await t.post('/agents', { count: 1 });

    const res = await t.post('/orders', { foodId: food.body.id });

    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ state: 'PLACED', storeId: 1, packetId: expect.any(Number), agentId: expect.any(Number) });
    expect((await t.get('/foods')).body).toContainEqual({
      id: food.body.id,
      name: food.body.name,
      packets: { free: 1, reserved: 0, assigned: 1, total: 2 },
    });
    const held = await holdings(res.body.orderId);
    expect(held.packets).toEqual([{ id: res.body.packetId, storeId: 1, foodId: food.body.id, state: 'ASSIGNED' }]);
    expect(held.agents).toEqual([{ id: res.body.agentId, storeId: 1, state: 'ASSIGNED' }]);
  });
});
