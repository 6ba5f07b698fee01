import { DEFAULT_STORE_ID, DeliveryPattern, ErrorCode, OrderPattern, Queue, QueueName, StorePattern } from '@app/contracts';
import { call } from '@app/platform';
import { RowDataPacket } from 'mysql2/promise';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { DEV_ADMIN_API_KEY } from '../apps/gateway/src/config/gateway.env';
import { snapshotDatabases } from './support/db-snapshot';
import { TEST_ADMIN_KEY, TestSystem } from './support/harness';
import { cartOfOne } from './support/participants';
import { RawBroker } from './support/raw-broker';
import { v7 } from 'uuid';

jest.setTimeout(120_000);

const t = new TestSystem('input', 3903);
let broker: RawBroker;
let foodId: number;

async function send(method: string, path: string, init: { body?: string; headers?: Record<string, string> } = {}) {
  const res = await fetch(t.url + path, { method, body: init.body, headers: init.headers });
  const text = await res.text();
  const answer = { status: res.status, headers: res.headers, type: res.headers.get('content-type') ?? '', body: JSON.parse(text) };
  t.expectDocumented({ method, path }, answer);
  return answer;
}
const json = { 'content-type': 'application/json' };
/** The orders a key made, with their carts (JSON: text from MariaDB). */
const ordersWithKey = async (key: string) =>
  (
    await t.query<RowDataPacket>(`SELECT id, store_id, items, state FROM ${t.env.ORDER_DB_NAME}.orders WHERE idempotency_key = ?`, [key])
  ).map((row) => ({ ...row, items: typeof row.items === 'string' ? JSON.parse(row.items) : row.items }));
const orderCount = async () => Number((await t.query<RowDataPacket>(`SELECT COUNT(*) AS n FROM ${t.env.ORDER_DB_NAME}.orders`))[0].n);

beforeAll(async () => {
  await t.start();
  await t.conformToDocument();
  broker = await RawBroker.open(t);
  foodId = (await t.post('/foods', { name: 'Rava Idli', packets: 20 })).body.id;
  await t.post('/agents', { count: 20 });
});
afterAll(async () => {
  await broker?.close();
  await t.stop();
});
afterEach(async () => {
  const report = await t.settled();
  expect(report.violations).toEqual([]);
});

describe('HTTP: every door validates', () => {
  it('answers every malformed body, id and query with 400 naming the offending fields, and changes nothing', async () => {
    const before = await snapshotDatabases(t);
    const cases: [string, string, string | undefined, RegExp][] = [
      ['POST', '/orders', '{"foodId": "1"}', /foodId must be an integer/],
      ['POST', '/orders', '{"foodId": true}', /foodId/],
      ['POST', '/orders', '{"foodId": 1, "admin": true}', /property admin should not exist/],
      ['POST', '/orders', '[{"foodId": 1}]', /foodId/],
      ['POST', '/orders', '{"foodId": ', /JSON/],
      ['POST', '/orders', '{"storeId": 1, "items": []}', /items must contain at least 1 elements/],
      [
        'POST',
        '/orders',
        '{"storeId": 1, "items": [{"foodId": 1, "quantity": 1}, {"foodId": 1, "quantity": 2}]}',
        /each foodId may appear only once/,
      ],
      ['POST', '/orders', '{"storeId": 1, "items": [{"foodId": 1, "quantity": 51}]}', /quantity must not be greater than 50/],
      ['POST', '/orders', '{"storeId": "1", "items": [{"foodId": 1, "quantity": 1}]}', /storeId must be an integer/],
      ['POST', '/orders', '{"storeId": 1, "foodId": 1}', /items/],
      ['POST', '/stores', '{"name": ""}', /name should not be empty/],
      ['POST', '/stores/abc/packets', '{"foodId": 1, "count": 1}', /storeId must be an integer/],
      ['POST', '/stores/1/packets', '{"count": 1}', /foodId must be an integer/],
      ['GET', '/stores/0', undefined, /storeId must not be less than 1/],
      ['POST', '/foods', '{"name": "", "packets": 1}', /name should not be empty/],
      ['POST', '/foods', '{"name": "X", "packets": "5"}', /packets must be an integer/],
      ['POST', '/foods/abc/packets', '{"count": 1}', /foodId must be an integer/],
      ['POST', '/agents', '{"count": 1, "names": ["Asha"]}', /give exactly one of count, names/],
      ['POST', '/agents', '{"count": 10, "names": null}', /names must be an array/],
      ['POST', '/foods/0/packets', '{"count": 1}', /foodId must not be less than 1/],
      ['POST', '/foods/1e3/packets', '{"count": 1}', /foodId must be an integer/],
      ['GET', '/orders/not-a-uuid', undefined, /orderId must be a UUID/],
      ['POST', '/orders/123/delivered', undefined, /orderId must be a UUID/],
      ['GET', '/foods?limit=5', undefined, /query parameter "limit" should not exist/],
      ['GET', `/orders/${randomUUID()}?x`, undefined, /query parameter "x" should not exist/],
    ];
    for (const [method, path, body, detail] of cases) {
      const res = await send(method, path, { body, headers: { ...json, 'x-api-key': TEST_ADMIN_KEY } });
      expect({ method, path, body, status: res.status }).toEqual({ method, path, body, status: 400 });
      expect(res.body.code).toBe(ErrorCode.VALIDATION_FAILED);
      expect([res.body.message, ...(res.body.details ?? [])].join('; ')).toMatch(detail);
    }
    expect(await snapshotDatabases(t)).toEqual(before);
  });

  it('answers unknown ids and routes with 404, unlisted methods with 405, oversized bodies with 413, other content types with 415', async () => {
    const before = await snapshotDatabases(t);
    const expectations: [Promise<Awaited<ReturnType<typeof send>>>, number, ErrorCode][] = [
      [send('GET', `/orders/${randomUUID()}`), 404, ErrorCode.ORDER_NOT_FOUND],
      [send('POST', `/orders/${randomUUID()}/delivered`, { headers: { 'x-api-key': TEST_ADMIN_KEY } }), 404, ErrorCode.ORDER_NOT_FOUND],
      [
        send('POST', '/foods/424242/packets', { body: '{"count": 1}', headers: { ...json, 'x-api-key': TEST_ADMIN_KEY } }),
        404,
        ErrorCode.FOOD_NOT_FOUND,
      ],
      [send('GET', '/stores/424242'), 404, ErrorCode.STORE_NOT_FOUND],
      [
        send('POST', '/stores/424242/packets', {
          body: `{"foodId": ${foodId}, "count": 1}`,
          headers: { ...json, 'x-api-key': TEST_ADMIN_KEY },
        }),
        404,
        ErrorCode.STORE_NOT_FOUND,
      ],
      [
        send('POST', '/stores/424242/agents', { body: '{"count": 1}', headers: { ...json, 'x-api-key': TEST_ADMIN_KEY } }),
        404,
        ErrorCode.STORE_NOT_FOUND,
      ],
      [send('DELETE', '/orders'), 405, ErrorCode.METHOD_NOT_ALLOWED],
      [send('GET', '/admin'), 404, ErrorCode.ROUTE_NOT_FOUND],
      [
        send('POST', '/orders', { body: JSON.stringify({ foodId, pad: 'x'.repeat(200_000) }), headers: json }),
        413,
        ErrorCode.PAYLOAD_TOO_LARGE,
      ],
      [
        send('POST', '/orders', { body: `{"foodId": ${foodId}}`, headers: { 'content-type': 'text/plain' } }),
        415,
        ErrorCode.UNSUPPORTED_MEDIA_TYPE,
      ],
      [
        send('POST', '/orders', { body: `foodId=${foodId}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
        415,
        ErrorCode.UNSUPPORTED_MEDIA_TYPE,
      ],
      [send('POST', '/orders', { body: `{"foodId": ${foodId}}` }), 415, ErrorCode.UNSUPPORTED_MEDIA_TYPE],
      [
        send('POST', '/orders', { body: `{"foodId": ${foodId}}`, headers: { 'content-type': 'application/json; charset=latin1' } }),
        415,
        ErrorCode.UNSUPPORTED_MEDIA_TYPE,
      ],
    ];
    for (const [answer, status, code] of expectations) {
      const res = await answer;
      expect({ status: res.status, code: res.body.code }).toEqual({ status, code });
      expect(res.type).toMatch(/application\/json/);
      expect(typeof res.body.message).toBe('string');
    }
    expect(await snapshotDatabases(t)).toEqual(before);
  });
});

describe('admin endpoints', () => {
  it('need the x-api-key; placing and reading orders stay public', async () => {
    const before = await snapshotDatabases(t);
    for (const headers of <Record<string, string>[]>[
      {},
      { 'x-api-key': '' },
      { 'x-api-key': 'wrong' },
      { 'x-api-key': TEST_ADMIN_KEY.replace(/.$/, 'X') },
    ]) {
      for (const [path, body] of [
        ['/foods', { name: 'Sneaky', packets: 1000 }],
        [`/foods/${foodId}/packets`, { count: 1000 }],
        ['/agents', { count: 1000 }],
        ['/stores', { name: 'Sneaky store' }],
        [`/stores/${DEFAULT_STORE_ID}/packets`, { foodId, count: 1000 }],
        [`/stores/${DEFAULT_STORE_ID}/agents`, { count: 1000 }],
      ] as const) {
        const res = await t.post(path, body, headers);
        expect({ path, headers, status: res.status, code: res.body.code }).toEqual({
          path,
          headers,
          status: 401,
          code: ErrorCode.UNAUTHORIZED,
        });
      }
    }
    // Authentication comes before validation: a stranger learns nothing about the body.
    expect((await t.post('/foods', { bogus: 1 }, {})).status).toBe(401);
    expect(await snapshotDatabases(t)).toEqual(before);

    expect((await t.post('/foods', { name: 'Pesarattu', packets: 2 })).status).toBe(201);
    expect((await t.get('/foods')).status).toBe(200);
    expect((await t.get('/agents')).status).toBe(200);
    const placed = await t.post('/orders', { foodId }, {});
    expect(placed.status).toBe(201);
    expect((await t.get(`/orders/${placed.body.orderId}`)).status).toBe(200);

    // Marking an order delivered frees its agent: staff only, since the live page shows order ids.
    const delivered = `/orders/${placed.body.orderId}/delivered`;
    for (const headers of <Record<string, string>[]>[{}, { 'x-api-key': 'wrong' }]) {
      expect({ headers, status: (await t.post(delivered, {}, headers)).status }).toEqual({ headers, status: 401 });
    }
    expect((await t.get(`/orders/${placed.body.orderId}`)).body.state).toBe('PLACED');
    expect((await t.post(delivered, {})).body.state).toBe('DELIVERED');
  });
});

describe('the admin key in production', () => {
  it('keeps the gateway from starting with the .env.example key, naming ADMIN_API_KEY', () => {
    const gateway = join(__dirname, '..', 'dist', 'apps', 'gateway', 'src', 'main.js');
    const env = { ...process.env, ...t.env, NODE_ENV: 'production', PORT: '1', ADMIN_API_KEY: DEV_ADMIN_API_KEY };

    const run = spawnSync(process.execPath, [gateway], { env, encoding: 'utf8', timeout: 30_000 });

    expect(run.status).toBe(1);
    expect(run.stdout + run.stderr).toMatch(/ADMIN_API_KEY.*NODE_ENV=production/);
  });
});

describe('rate limit of POST /orders', () => {
  const port = Number(new URL(t.url).port) + 1;
  beforeAll(async () => {
    t.system.spawn('gateway', 2, { THROTTLE_ORDERS_LIMIT: '3', THROTTLE_ORDERS_TTL_MS: '60000' });
    await t.until(async () => (await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined))?.ok, 30_000, 'the second gateway');
  });
  afterAll(() => t.system.stop('gateway#2'));

  it('answers 429 with Retry-After past THROTTLE_ORDERS_LIMIT per client, and limits nothing else', async () => {
    const post = () => fetch(`http://127.0.0.1:${port}/orders`, { method: 'POST', headers: json, body: '{"foodId": 0}' });
    for (let i = 0; i < 3; i++) expect((await post()).status).toBe(400);

    const limited = await post();

    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    const body: unknown = await limited.json();
    expect(body).toMatchObject({ code: ErrorCode.TOO_MANY_REQUESTS });
    t.expectDocumented({ method: 'POST', path: '/orders' }, { status: limited.status, headers: limited.headers, body });
    expect((await fetch(`http://127.0.0.1:${port}/foods`)).status).toBe(200);
    // The counter is the gateway's own: the suite's first gateway still takes orders from this client.
    expect((await t.post('/orders', { foodId: 0 })).status).toBe(400);
  });
});

describe('Idempotency-Key', () => {
  const keyed = (key: string, food = foodId) => t.post('/orders', { foodId: food }, { 'idempotency-key': key });
  // A second gateway: retries through different instances meet only in the order service's database.
  const second = `http://127.0.0.1:${Number(new URL(t.url).port) + 2}`;
  const keyedVia = async (url: string, key: string) => {
    const res = await fetch(`${url}/orders`, {
      method: 'POST',
      headers: { ...json, 'idempotency-key': key },
      body: JSON.stringify({ foodId }),
    });
    const answer = { status: res.status, headers: res.headers, body: (await res.json()) as { orderId: string } };
    t.expectDocumented({ method: 'POST', path: '/orders' }, answer);
    return { status: answer.status, body: answer.body };
  };
  beforeAll(async () => {
    t.system.spawn('gateway', 3);
    await t.until(async () => (await fetch(`${second}/health`).catch(() => undefined))?.ok, 30_000, 'the third gateway');
  });
  afterAll(() => t.system.stop('gateway#3'));

  it('answers a retry with the same order and outcome, never a second order', async () => {
    const key = randomUUID();
    const first = await keyed(key);
    const retry = await keyed(key);

    expect(first.status).toBe(201);
    expect(retry).toEqual(first);
    expect(await ordersWithKey(key)).toEqual([
      {
        id: first.body.orderId,
        store_id: DEFAULT_STORE_ID,
        items: [{ foodId, quantity: 1, packetIds: [first.body.packetId] }],
        state: 'PLACED',
      },
    ]);
  });

  it('makes one order when retries race the first request, through two gateways', async () => {
    const key = randomUUID();

    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => keyedVia(i % 2 ? second : t.url, key)));

    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(201));
    expect(new Set(answers.map((a) => JSON.stringify(a.body))).size).toBe(1);
    expect(await ordersWithKey(key)).toHaveLength(1);
    const holds = await t.query<RowDataPacket>(`SELECT COUNT(*) AS n FROM ${t.env.STORE_DB_NAME}.packet WHERE order_id = ?`, [
      answers[0].body.orderId,
    ]);
    expect(Number(holds[0].n)).toBe(1);
  });

  it('replays a refusal, also to the same order as a cart, and refuses the key for another food or cart with 422', async () => {
    const key = randomUUID();
    const refused = await keyed(key, 999_999);
    expect(refused.status).toBe(409);
    expect(await keyed(key, 999_999)).toEqual(refused);
    const asCart = (quantity: number) =>
      t.post('/orders', { storeId: DEFAULT_STORE_ID, items: [{ foodId: 999_999, quantity }] }, { 'idempotency-key': key });
    // {foodId} is one packet of the food from the default store: the same cart.
    expect(await asCart(1)).toEqual(refused);

    const before = await orderCount();
    for (const reused of [await keyed(key, foodId), await asCart(2)]) {
      expect(reused.status).toBe(422);
      expect(reused.body.code).toBe(ErrorCode.IDEMPOTENCY_KEY_REUSED);
    }
    expect(await orderCount()).toBe(before);
  });

  it('refuses a malformed key with 400 before ordering anything', async () => {
    const before = await orderCount();
    for (const key of ['', 'has space', 'x'.repeat(101), 'a/b', 'a,b']) {
      const res = await t.post('/orders', { foodId }, { 'idempotency-key': key });
      expect({ key, status: res.status }).toEqual({ key, status: 400 });
      expect(res.body.details.join(' ')).toMatch(/Idempotency-Key/);
    }
    expect(await orderCount()).toBe(before);
  });
});

describe('messages', () => {
  it('answers an invalid payload with VALIDATION_FAILED and an unknown pattern with UNKNOWN_PATTERN', async () => {
    const before = await snapshotDatabases(t);
    const cases: [QueueName, string, unknown][] = [
      [Queue.STORE, StorePattern.RESERVE_CART, cartOfOne('nope', foodId)],
      // Order ids carry their minting time: a reserve of any UUID but a v7 is refused.
      [Queue.STORE, StorePattern.RESERVE_CART, cartOfOne(randomUUID(), foodId)],
      [Queue.STORE, StorePattern.RESERVE_CART, { ...cartOfOne(v7(), foodId), items: [] }],
      [Queue.STORE, StorePattern.RESERVE_CART, { orderId: v7(), foodId }],
      [Queue.STORE, StorePattern.ASSIGN_PACKETS, { orderId: v7(), packetIds: [7, 7] }],
      [Queue.DELIVERY, DeliveryPattern.RESERVE_AGENT, { orderId: v7(), attempt: 1 }],
      [Queue.STORE_ADMIN, StorePattern.CREATE_FOOD, { name: 'X', packets: 1, idempotencyKey: 'k', extra: 1 }],
      [Queue.DELIVERY, DeliveryPattern.ASSIGN_AGENT, { orderId: randomUUID(), agentId: -1 }],
      [Queue.DELIVERY, DeliveryPattern.RELEASE_AGENT, 'just a string'],
      [
        Queue.ORDER,
        OrderPattern.PLACE_ORDER,
        { orderId: v7(), storeId: DEFAULT_STORE_ID, items: [{ foodId: '1', quantity: 1 }], deadline: Date.now() + 5000 },
      ],
      [
        Queue.ORDER,
        OrderPattern.PLACE_ORDER,
        {
          orderId: v7(),
          storeId: DEFAULT_STORE_ID,
          items: [
            { foodId, quantity: 1 },
            { foodId, quantity: 1 },
          ],
          deadline: Date.now() + 5000,
        },
      ],
      [Queue.ORDER, OrderPattern.GET_ORDER, null],
    ];
    const unknown = Object.values(Queue).map((queue): [QueueName, string, unknown] => [queue, `${queue}.no-such-thing`, {}]);
    cases.push(...unknown);

    const sent = cases.map(([queue, pattern, payload]) => broker.request(queue, pattern, payload));
    await broker.waitForReplies(sent.length, 10_000);

    const codes = sent.map((id) => (broker.reply(id) as { err?: { code?: string } } | undefined)?.err?.code);
    expect(codes).toEqual([
      ...Array(cases.length - unknown.length).fill(ErrorCode.VALIDATION_FAILED),
      ...Array(unknown.length).fill(ErrorCode.UNKNOWN_PATTERN),
    ]);
    // Through Nest's own client too: the contract error reaches the caller as its code.
    await expect(call(t.client(Queue.STORE), StorePattern.RESERVE_CART, cartOfOne('nope', foodId), 3000)).rejects.toMatchObject({
      code: ErrorCode.VALIDATION_FAILED,
    });
    await expect(call(t.client(Queue.ORDER), 'order.no-such-thing', {}, 3000)).rejects.toMatchObject({ code: ErrorCode.UNKNOWN_PATTERN });
    expect(await snapshotDatabases(t)).toEqual(before);
  });

  it('puts poison messages in the dead-letter queue once, without running them, and keeps answering', async () => {
    const before = await snapshotDatabases(t);
    for (const queue of Object.values(Queue)) await broker.drainDeadLetters(queue);
    const release = (orderId: string) => JSON.stringify({ pattern: StorePattern.RELEASE_PACKETS, data: { orderId }, id: randomUUID() });
    const poison: [Buffer | string, { reply?: boolean }, RegExp][] = [
      ['{"pattern": "store.packet.rel', { reply: true }, /not JSON/],
      [Buffer.from([0xff, 0xfe, 0x00, 0x01]), {}, /not JSON/],
      ['[1, 2, 3]', { reply: true }, /not a JSON object/],
      ['{"data": {}, "id": "1"}', { reply: true }, /no string pattern/],
      // Valid requests but for nobody to answer: running them would change data silently.
      [release(randomUUID()), {}, /no reply-to/],
      [JSON.stringify({ pattern: StorePattern.RELEASE_PACKETS, data: { orderId: randomUUID() } }), { reply: true }, /no request id/],
      [JSON.stringify({ pattern: 'store.drop-tables', data: {}, id: 'x' }), {}, /unknown pattern/],
    ];
    for (const [content, options] of poison) broker.publish(Queue.STORE, content, options);

    await t.until(async () => (await broker.depth(Queue.STORE)).deadLettered === poison.length, 10_000, 'the dead-letter queue');
    // Nothing is redelivered: the queue stays empty and the dead-letter count stays put.
    await call(t.client(Queue.STORE), StorePattern.HEALTH, {}, 3000);
    expect(await broker.depth(Queue.STORE)).toEqual({ ready: 0, deadLettered: poison.length });
    const reasons = await broker.drainDeadLetters(Queue.STORE);
    for (const [, , reason] of poison) expect(reasons.some((r) => reason.test(r))).toBe(true);
    expect(await snapshotDatabases(t)).toEqual(before);
    expect((await t.get('/health')).status).toBe(200);
  });
});
