import { DEFAULT_STORE_ID, DeliveryPattern, ErrorCode, HoldCounts, Queue, queueName, StorePattern, tallyHoldCounts } from '@app/contracts';
import { call } from '@app/platform';
import { connect } from 'amqplib';
import { Connection, RowDataPacket } from 'mysql2/promise';
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { TEST_ADMIN_KEY, TestSystem } from './support/harness';
import { agentReserve, reservePacket } from './support/participants';
import { RawBroker } from './support/raw-broker';
import { v7 } from 'uuid';

/**
 * Admin writes and listings (issue 12.5): one call adds at most a documented number of rows; an
 * addition runs once per Idempotency-Key; GET /foods, /agents and /stores read maintained counts that
 * stay equal to the rows; listings and additions wait in the participants' admin queues, never in
 * front of an order's reserve; and a listing whose caller gave up is never run.
 */

jest.setTimeout(180_000);

/** The maxima docs/admin.md documents: one call at the maximum commits well inside the gateway's wait. */
const DOCUMENTED_MAX = { packets: 50_000, agents: 50_000, names: 1000 };

const t = new TestSystem('admin', 3912);
const ADMIN = { 'x-api-key': TEST_ADMIN_KEY };
const keyed = (idempotencyKey: string) => ({ ...ADMIN, 'idempotency-key': idempotencyKey });
const storeDb = t.env.STORE_DB_NAME;
const deliveryDb = t.env.DELIVERY_DB_NAME;

beforeAll(() => t.start());
afterAll(() => t.stop());

afterEach(async () => {
  const report = await t.settled();
  expect(report.pending).toBe(0);
  expect(report.violations).toEqual([]);
});

async function newFood(name: string, packets: number): Promise<number> {
  const res = await t.post('/foods', { name, packets });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function listed(foodId: number): Promise<HoldCounts> {
  const res = await t.get('/foods');
  expect(res.status).toBe(200);
  return res.body.find((food: { id: number }) => food.id === foodId).packets;
}

/** The packets of a food as its rows say, the way GET /foods used to count them. */
async function rowsOf(foodId: number): Promise<HoldCounts> {
  const rows = await t.query<RowDataPacket>(
    `SELECT state, COUNT(*) AS n FROM ${t.env.STORE_DB_NAME}.packet WHERE food_id = ? GROUP BY state`,
    [foodId],
  );
  return tallyHoldCounts(rows as { state: string; n: number }[]);
}

async function agentRows(): Promise<HoldCounts> {
  const rows = await t.query<RowDataPacket>(`SELECT state, COUNT(*) AS n FROM ${t.env.DELIVERY_DB_NAME}.agent GROUP BY state`);
  return tallyHoldCounts(rows as { state: string; n: number }[]);
}

/**
 * How many statements starting with `statement` the services are running in `database` right now.
 * Used while the test holds a lock such a statement needs: it is then waiting for that lock, since
 * it cannot finish before the test lets go. (The process list, not INNODB_TRX, whose cache a busy
 * shared server may truncate.)
 */
async function running(database: string, statement: string): Promise<number> {
  const [{ n }] = await t.query<RowDataPacket>(
    `SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ? AND COMMAND = 'Query' AND INFO LIKE CONCAT(?, '%')`,
    [database, statement],
  );
  return Number(n);
}

/** A transaction of the test's own that holds locks the services will wait for, until it ends. */
async function holding(locks: (db: Connection) => Promise<unknown>): Promise<Connection> {
  const db = await t.db();
  await db.query('START TRANSACTION');
  await locks(db);
  return db;
}

/** The JSON lines `instance` logged. */
function logLines(instance: string): Record<string, unknown>[] {
  return readFileSync(t.logFile, 'utf8')
    .split('\n')
    .flatMap((line) =>
      line.startsWith(`[${instance}] {`) ? [JSON.parse(line.slice(instance.length + 3)) as Record<string, unknown>] : [],
    );
}

describe('the size of one call', () => {
  it('refuses more rows than the documented maximum with 400, adding nothing', async () => {
    const foodId = await newFood('Bounded', 0);
    const agentsBefore = (await t.get('/agents')).body.agents.total;
    const names = Array.from({ length: DOCUMENTED_MAX.names + 1 }, (_, i) => `n${i}`);
    const tooMany: [string, unknown, RegExp][] = [
      ['/foods', { name: 'Too big', packets: DOCUMENTED_MAX.packets + 1 }, /packets must not be greater than 50000/],
      [`/foods/${foodId}/packets`, { count: DOCUMENTED_MAX.packets + 1 }, /count must not be greater than 50000/],
      ['/agents', { count: DOCUMENTED_MAX.agents + 1 }, /count must not be greater than 50000/],
      ['/agents', { names }, /names must contain no more than 1000 elements/],
      [`/stores/${DEFAULT_STORE_ID}/packets`, { foodId, count: DOCUMENTED_MAX.packets + 1 }, /count must not be greater than 50000/],
      [`/stores/${DEFAULT_STORE_ID}/agents`, { count: DOCUMENTED_MAX.agents + 1 }, /count must not be greater than 50000/],
    ];
    for (const [path, body, detail] of tooMany) {
      const res = await t.post(path, body);
      expect([path, res.status, res.body.code]).toEqual([path, 400, ErrorCode.VALIDATION_FAILED]);
      expect(res.body.details.join('\n')).toMatch(detail);
    }
    expect((await t.get('/foods')).body.map((food: { name: string }) => food.name)).not.toContain('Too big');
    expect(await listed(foodId)).toEqual({ free: 0, reserved: 0, assigned: 0, total: 0 });
    expect((await t.get('/agents')).body.agents.total).toBe(agentsBefore);
  });

  it('adds the maximum in one call, answered with the new counts', async () => {
    const foodId = await newFood('At the maximum', 0);
    const agentsBefore = (await t.get('/agents')).body.agents.total;
    const started = Date.now();
    const packets = await t.post(`/foods/${foodId}/packets`, { count: DOCUMENTED_MAX.packets });
    const packetsMs = Date.now() - started;
    const agents = await t.post('/agents', { count: DOCUMENTED_MAX.agents });
    console.log(
      `${DOCUMENTED_MAX.packets} packets in ${packetsMs} ms, ${DOCUMENTED_MAX.agents} agents in ${Date.now() - started - packetsMs} ms`,
    );

    expect(packets.status).toBe(201);
    expect(packets.body.packets).toEqual({ free: DOCUMENTED_MAX.packets, reserved: 0, assigned: 0, total: DOCUMENTED_MAX.packets });
    expect(agents.status).toBe(201);
    expect(agents.body).toMatchObject({ created: DOCUMENTED_MAX.agents, agents: { total: agentsBefore + DOCUMENTED_MAX.agents } });
  });
});

describe('an Idempotency-Key on additions', () => {
  it('adds packets once however often the request is sent, answering every retry as the first, and 422 for another body', async () => {
    const foodId = await newFood('Keyed top-up', 3);
    const key = `top-up-${randomUUID()}`;

    const first = await t.post(`/foods/${foodId}/packets`, { count: 10 }, keyed(key));
    const retries = await Promise.all([1, 2, 3].map(() => t.post(`/foods/${foodId}/packets`, { count: 10 }, keyed(key))));
    const reused = await t.post(`/foods/${foodId}/packets`, { count: 11 }, keyed(key));

    expect(first.status).toBe(201);
    expect(first.body.packets).toEqual({ free: 13, reserved: 0, assigned: 0, total: 13 });
    for (const retry of retries) expect(retry).toEqual(first);
    expect(reused.status).toBe(422);
    expect(reused.body.code).toBe(ErrorCode.IDEMPOTENCY_KEY_REUSED);
    expect(await rowsOf(foodId)).toEqual({ free: 13, reserved: 0, assigned: 0, total: 13 });
    // A key is the client's: without one, each request is an addition of its own.
    expect((await t.post(`/foods/${foodId}/packets`, { count: 10 })).body.packets.total).toBe(23);
  });

  it('creates a food and agents once per key, and refuses the key with another body', async () => {
    const foodKey = `food-${randomUUID()}`;
    const created = await t.post('/foods', { name: 'Keyed food', packets: 4 }, keyed(foodKey));
    expect(created.status).toBe(201);
    expect(await t.post('/foods', { name: 'Keyed food', packets: 4 }, keyed(foodKey))).toEqual(created);
    expect((await t.post('/foods', { name: 'Keyed food', packets: 5 }, keyed(foodKey))).status).toBe(422);
    expect((await t.post(`/foods/${created.body.id}/packets`, { count: 4 }, keyed(foodKey))).status).toBe(422);
    expect((await t.get('/foods')).body.filter((food: { name: string }) => food.name === 'Keyed food')).toHaveLength(1);
    expect(await rowsOf(created.body.id)).toMatchObject({ total: 4 });

    const agentKey = `agents-${randomUUID()}`;
    const before = await agentRows();
    const hired = await t.post('/agents', { count: 7 }, keyed(agentKey));
    expect(hired.status).toBe(201);
    expect(await t.post('/agents', { count: 7 }, keyed(agentKey))).toEqual(hired);
    const reused = await t.post('/agents', { names: ['Asha'] }, keyed(agentKey));
    expect([reused.status, reused.body.code]).toEqual([422, ErrorCode.IDEMPOTENCY_KEY_REUSED]);
    expect((await agentRows()).total).toBe(before.total + 7);
  });

  it('has a retry sent while the first request still runs wait for it, and add nothing', async () => {
    const foodId = await newFood('Slow top-up', 0);
    const key = `slow-${randomUUID()}`;
    // Holding the food row stalls the first addition at its first packet (the foreign key check).
    const db = await holding((conn) => conn.query(`SELECT id FROM ${t.env.STORE_DB_NAME}.food WHERE id = ? FOR UPDATE`, [foodId]));
    let answers: { status: number; body: unknown }[];
    try {
      const first = t.post(`/foods/${foodId}/packets`, { count: 25 }, keyed(key));
      await t.until(
        async () => (await running(storeDb, 'INSERT INTO packet ')) === 1,
        10_000,
        'the first addition to wait for the food row',
      );
      const retry = t.post(`/foods/${foodId}/packets`, { count: 25 }, keyed(key));
      await t.until(async () => (await running(storeDb, 'INSERT INTO stock_addition ')) === 1, 10_000, 'the retry to wait for the first');
      await db.query('COMMIT');
      answers = await Promise.all([first, retry]);
    } finally {
      await db.end();
    }

    expect(answers[0].status).toBe(201);
    expect(answers[1]).toEqual(answers[0]);
    expect(await rowsOf(foodId)).toEqual({ free: 25, reserved: 0, assigned: 0, total: 25 });
  });
});

describe('the counts GET /foods, GET /agents and GET /stores read', () => {
  it('stay equal to the rows through orders, expiries, deliveries, aborts and additions', async () => {
    const foodId = await newFood('Counted', 40);
    expect((await t.post('/agents', { count: 30 })).status).toBe(201);
    const store = t.client(Queue.STORE);
    const delivery = t.client(Queue.DELIVERY);

    const orders = Array.from({ length: 30 }, () => t.post('/orders', { foodId }));
    // Reservations of orders that never come back: they expire and are swept (or taken over).
    const strays = Array.from({ length: 5 }, async () => {
      const orderId = v7();
      await reservePacket(store, orderId, foodId, 5000);
      await call(delivery, DeliveryPattern.RESERVE_AGENT, agentReserve(orderId), 5000);
    });
    // Orders assigned on both sides and then released, as an abort after the decision does.
    const aborted = Array.from({ length: 3 }, async () => {
      const orderId = v7();
      const packetId = await reservePacket(store, orderId, foodId, 5000);
      const { agentId } = await call<{ agentId: number }>(delivery, DeliveryPattern.RESERVE_AGENT, agentReserve(orderId), 5000);
      await call(store, StorePattern.ASSIGN_PACKETS, { orderId, packetIds: [packetId] }, 5000);
      await call(delivery, DeliveryPattern.ASSIGN_AGENT, { orderId, agentId }, 5000);
      await call(store, StorePattern.RELEASE_PACKETS, { orderId }, 5000);
      await call(delivery, DeliveryPattern.RELEASE_AGENT, { orderId }, 5000);
    });
    const additions = Array.from({ length: 6 }, (_, i) => {
      const key = `counted-${i}-${randomUUID()}`;
      return Promise.all([
        t.post(`/foods/${foodId}/packets`, { count: 5 }, keyed(key)),
        t.post(`/foods/${foodId}/packets`, { count: 5 }, keyed(key)),
        t.post('/agents', { count: 2 }, keyed(key)),
      ]);
    });
    // Listings taken amid the churn: each consistent; one that waited past its caller's timeout in
    // the admin queue (the additions go first there) is answered 503 and never run.
    const listings = Array.from({ length: 20 }, () => t.get('/foods'));
    const placed = (await Promise.all(orders)).filter((res) => res.status === 201);
    await Promise.all([...strays, ...aborted, ...additions]);
    for (const { status, body } of await Promise.all(listings)) {
      expect([200, 503]).toContain(status);
      if (status !== 200) continue;
      const { packets: counts } = body.find((food: { id: number }) => food.id === foodId);
      expect(counts.free + counts.reserved + counts.assigned).toBe(counts.total);
    }
    for (const res of placed.slice(0, 10)) expect((await t.post(`/orders/${res.body.orderId}/delivered`, {})).status).toBe(200);

    await t.settled();
    await t.until(async () => (await rowsOf(foodId)).reserved === 0, 10_000, 'the stray reservations to be swept');
    await t.until(async () => (await agentRows()).reserved === 0, 10_000, 'the stray agents to be swept');
    // An order answered 202 on a slow machine may be placed since: count the placed ones as recorded.
    const [{ n: holding }] = await t.query<RowDataPacket>(
      `SELECT COUNT(*) AS n FROM ${t.env.ORDER_DB_NAME}.orders
        WHERE JSON_CONTAINS(items, JSON_OBJECT('foodId', ?)) AND state IN ('PLACED', 'DELIVERING', 'DELIVERED')`,
      [foodId],
    );
    expect(Number(holding)).toBeGreaterThanOrEqual(placed.length);
    const rows = await rowsOf(foodId);
    expect(rows).toEqual({ free: 70 - Number(holding), reserved: 0, assigned: Number(holding), total: 70 });
    expect(await listed(foodId)).toEqual(rows);
    expect((await t.get('/agents')).body.agents).toEqual(await agentRows());
    // GET /stores/{storeId} reads the same counts: the single-food API's are the default store's.
    const defaultStore = (await t.get(`/stores/${DEFAULT_STORE_ID}`)).body;
    expect(defaultStore.foods.find((food: { id: number }) => food.id === foodId).packets).toEqual(rows);
    expect(defaultStore.agents).toEqual(await agentRows());
  });

  it('are checked against the rows by the invariant checker (I5)', async () => {
    const foodId = await newFood('Miscounted', 2);
    const packetCount = `${t.env.STORE_DB_NAME}.packet_count`;
    const agentCount = `${t.env.DELIVERY_DB_NAME}.agent_count`;
    await t.query(`UPDATE ${packetCount} SET assigned = assigned + 1 WHERE store_id = ? AND food_id = ?`, [DEFAULT_STORE_ID, foodId]);
    await t.query(`UPDATE ${agentCount} SET total = total + 1 WHERE store_id = ?`, [DEFAULT_STORE_ID]);
    try {
      const { violations } = await t.check();
      expect(violations).toEqual([
        expect.objectContaining({
          invariant: 'I5',
          ids: [`${DEFAULT_STORE_ID}:${foodId}`],
          message: expect.stringContaining('counted 2, 1 assigned; the rows, 2 and 0'),
        }),
        expect.objectContaining({
          invariant: 'I5',
          ids: [String(DEFAULT_STORE_ID)],
          message: expect.stringMatching(/^agent_count of dark store 1: counted \d+/),
        }),
      ]);
    } finally {
      await t.query(`UPDATE ${packetCount} SET assigned = assigned - 1 WHERE store_id = ? AND food_id = ?`, [DEFAULT_STORE_ID, foodId]);
      await t.query(`UPDATE ${agentCount} SET total = total - 1 WHERE store_id = ?`, [DEFAULT_STORE_ID]);
    }
  });
});

describe('reads and admin calls beside orders', () => {
  it('places an order while listings wait in the admin queues behind stalled additions', async () => {
    const foodId = await newFood('Queued', 5);
    expect((await t.post('/agents', { count: 5 })).status).toBe(201);
    // Two additions per admin queue (its prefetch, RMQ_ADMIN_PREFETCH) that cannot finish: each
    // waits for an Idempotency-Key that a transaction of the test has taken.
    const stalled = {
      store: [`stall-${randomUUID()}`, `stall-${randomUUID()}`],
      delivery: [`stall-${randomUUID()}`, `stall-${randomUUID()}`],
    };
    const db = await holding(async (conn) => {
      for (const [table, keys] of [
        [`${t.env.STORE_DB_NAME}.stock_addition`, stalled.store],
        [`${t.env.DELIVERY_DB_NAME}.agent_addition`, stalled.delivery],
      ] as const)
        for (const key of keys) await conn.query(`INSERT INTO ${table} (idempotency_key, request_hash) VALUES (?, REPEAT('0', 64))`, [key]);
    });
    const broker = await RawBroker.open(t);
    try {
      const additions = [
        ...stalled.store.map((key) => t.post(`/foods/${foodId}/packets`, { count: 1 }, keyed(key))),
        ...stalled.delivery.map((key) => t.post('/agents', { count: 1 }, keyed(key))),
      ];
      const waiting = async () => [
        await running(storeDb, 'INSERT INTO stock_addition '),
        await running(deliveryDb, 'INSERT INTO agent_addition '),
      ];
      await t.until(async () => (await waiting()).every((n) => n === 2), 10_000, 'the four additions to wait for their keys');
      const LISTINGS = 100;
      for (let i = 0; i < LISTINGS; i++) {
        broker.request(Queue.STORE_ADMIN, StorePattern.LIST_FOODS, {});
        broker.request(Queue.DELIVERY_ADMIN, DeliveryPattern.LIST_AGENTS, {});
      }
      const queued = async () => [(await broker.depth(Queue.STORE_ADMIN)).ready, (await broker.depth(Queue.DELIVERY_ADMIN)).ready];
      await t.until(async () => (await queued()).every((ready) => ready === LISTINGS), 10_000, 'the listings to be queued');

      const order = await t.post('/orders', { foodId });

      expect(order.status).toBe(201);
      expect(await queued()).toEqual([LISTINGS, LISTINGS]);
      expect(broker.replyCount).toBe(0);

      await db.query('ROLLBACK');
      await broker.waitForReplies(2 * LISTINGS, 20_000);
      expect(broker.replyCount).toBe(2 * LISTINGS);
      expect((await Promise.all(additions)).map((res) => res.status)).toEqual([201, 201, 201, 201]);
    } finally {
      await db.end();
      await broker.close();
    }
  });

  it('never runs a listing whose caller gave up: the store drops it when it gets to it', async () => {
    const correlationId = `expired-list-${randomUUID()}`;
    const store = t.system.pid('store')!;
    process.kill(store, 'SIGSTOP');
    let answer: Response;
    try {
      answer = await fetch(`${t.url}/foods`, { headers: { 'x-correlation-id': correlationId } });
    } finally {
      process.kill(store, 'SIGCONT');
    }
    expect(answer.status).toBe(503);

    const outcome = await t.until(
      async () => logLines('store').find((line) => line.correlationId === correlationId && line.pattern === StorePattern.LIST_FOODS),
      10_000,
      'the store to run or drop the listing',
    );
    expect(outcome.msg).toMatch(/^store\.food\.list dropped: its caller stopped waiting \d+ ms ago$/);
    expect((await t.get('/foods')).status).toBe(200);
  });

  it('reports the store down on /health when it no longer consumes its admin queue', async () => {
    expect((await t.get('/health')).status).toBe(200);
    // Deleting the queue cancels the store's consumer of it, and an exclusive queue of this test's
    // under its name keeps the store from declaring it again (it keeps trying): the probes
    // sent there find nobody. The store may declare it first once; then take it again.
    const name = queueName(t.env.QUEUE_PREFIX, Queue.STORE_ADMIN);
    const broker = await connect(t.rmq.url);
    for (let held = false, tries = 0; !held; tries++) {
      if (tries === 10) throw new Error(`the store declared ${name} again before this test, ten times`);
      const channel = await broker.createChannel();
      channel.on('error', () => undefined);
      await channel.deleteQueue(name);
      held = await channel.assertQueue(name, { exclusive: true, durable: false }).then(
        () => true,
        () => false,
      );
    }
    try {
      const down = await t.until(async () => {
        const res = await t.get('/health');
        return res.status === 503 ? res : undefined;
      });
      expect(down.body.message).toBe('Down: store');
      expect(down.body.error.store.message).toMatch(/^on queue store\.admin, store\.health: no reply within/);
      expect(down.body.info).toMatchObject({ store_database: { status: 'up' }, delivery: { status: 'up' } });
      // Refused, the store keeps trying rather than dying.
      t.expectRunning();
    } finally {
      await broker.close();
      await t.system.stop('store');
      t.system.spawn('store');
      await t.system.waitHealthy();
    }
  });
});
