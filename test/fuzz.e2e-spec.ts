import {
  DEFAULT_STORE_ID,
  DeliveryPattern,
  ErrorCode,
  IDEMPOTENCY_KEY,
  MAX_CART_LINES,
  MAX_ID,
  MAX_LINE_QUANTITY,
  OrderPattern,
  Queue,
  QueueName,
  StorePattern,
} from '@app/contracts';
import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { v7 } from 'uuid';
import { snapshotDatabases } from './support/db-snapshot';
import { TEST_ADMIN_KEY, TestSystem } from './support/harness';
import { RawBroker } from './support/raw-broker';

/**
 * Property-based abuse of the whole system: thousands of malformed HTTP requests through the
 * gateway, and hundreds of malformed raw messages straight onto each service's queue. Every HTTP
 * answer must be a 4xx with a JSON `{ code, message }` body, every message must be answered with a
 * contract error or dead-lettered (never run), and afterwards every service still answers, no row
 * of any database has changed and the invariants hold. Every HTTP answer must also be one the
 * gateway's OpenAPI document describes (a standard validator reads it: see support/openapi.ts).
 */

jest.setTimeout(300_000);

const HTTP_LANES = 4;
const HTTP_RUNS_PER_LANE = 750;
const MESSAGE_BATCH = 100;
const MESSAGE_RUNS = 3;
const BODY_LIMIT = 16_384;

const t = new TestSystem('fuzz', 3907, { BODY_LIMIT_BYTES: String(BODY_LIMIT) });
let broker: RawBroker;
let foodId: number;
/** A dark store besides the default one, stocked like it. */
let storeId: number;

beforeAll(async () => {
  await t.start();
  await t.conformToDocument();
  broker = await RawBroker.open(t);
  foodId = (await t.post('/foods', { name: 'Fuzz Dosa', packets: 50 })).body.id;
  await t.post('/agents', { count: 50 });
  storeId = (await t.post('/stores', { name: 'Fuzz store' })).body.id;
  await t.post(`/stores/${storeId}/packets`, { foodId, count: 50 });
  await t.post(`/stores/${storeId}/agents`, { count: 50 });
});
afterAll(async () => {
  await broker?.close();
  await t.stop();
});

// ---------------------------------------------------------------------------------------------
// HTTP requests, each malformed by construction, with the statuses it may get
// ---------------------------------------------------------------------------------------------

interface HttpCase {
  kind: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  expected: number[];
}

const JSON_TYPE = { 'content-type': 'application/json' };
const ADMIN = { ...JSON_TYPE, 'x-api-key': TEST_ADMIN_KEY };
const printable = (maxLength: number) =>
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength });
const word = fc.stringMatching(/^[a-z][a-z0-9]{0,7}$/);
const unknownField = word.map((w) => `x_${w}`);

/** An object's own fields but `__proto__`, which is stripped before validation; undefined for anything but an object. */
function fieldsOf(value: unknown): Record<string, unknown> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  return Object.fromEntries(Object.entries(value).filter(([key]) => key !== '__proto__'));
}

const isId = (value: unknown) => Number.isInteger(value) && (value as number) >= 1 && (value as number) <= MAX_ID;
const hasExactly = (fields: Record<string, unknown>, names: string[]) => Object.keys(fields).sort().join() === [...names].sort().join();

/** What the gateway must accept from POST /orders: a single food `{ foodId }`, or a cart `{ storeId, items }` naming each food once. */
function isValidOrderBody(value: unknown): boolean {
  const body = fieldsOf(value);
  if (!body) return false;
  if (hasExactly(body, ['foodId'])) return isId(body.foodId);
  if (!hasExactly(body, ['storeId', 'items']) || !isId(body.storeId) || !Array.isArray(body.items)) return false;
  const lines = body.items.map(fieldsOf);
  const valid = (line: Record<string, unknown> | undefined) =>
    line !== undefined &&
    hasExactly(line, ['foodId', 'quantity']) &&
    isId(line.foodId) &&
    Number.isInteger(line.quantity) &&
    (line.quantity as number) >= 1 &&
    (line.quantity as number) <= MAX_LINE_QUANTITY;
  return (
    lines.length >= 1 &&
    lines.length <= MAX_CART_LINES &&
    lines.every(valid) &&
    new Set(lines.map((line) => line!.foodId)).size === lines.length
  );
}

/** A value no id field (foodId, storeId) takes. */
const badId = fc.oneof(
  fc.string(),
  fc.boolean(),
  fc.double().filter((d) => !Number.isInteger(d)),
  fc.integer({ max: 0 }),
  fc.integer({ min: MAX_ID + 1, max: Number.MAX_SAFE_INTEGER }),
  fc.constant(null),
  fc.array(fc.integer()),
  fc.object(),
);

/** A cart line the gateway takes, and values of a quantity it does not. */
const cartLine = () => fc.record({ foodId: fc.integer({ min: 1, max: MAX_ID }), quantity: fc.integer({ min: 1, max: MAX_LINE_QUANTITY }) });
const badQuantity = fc.oneof(
  fc.integer({ max: 0 }),
  fc.integer({ min: MAX_LINE_QUANTITY + 1 }),
  fc.double().filter((d) => !Number.isInteger(d)),
  fc.string(),
  fc.constant(null),
);

/** Carts wrong in one way or another: the store, the lines, a line, a food twice, both forms at once. */
function badCart(): fc.Arbitrary<unknown> {
  const store = fc.constantFrom(DEFAULT_STORE_ID, storeId);
  const lines = fc.array(cartLine(), { minLength: 1, maxLength: 3 });
  const badLine = fc.oneof(
    fc.record({ foodId: badId, quantity: fc.integer({ min: 1, max: MAX_LINE_QUANTITY }) }),
    fc.record({ foodId: fc.constant(foodId), quantity: badQuantity }),
    fc.tuple(cartLine(), unknownField).map(([line, field]) => ({ ...line, [field]: 1 })),
    fc.jsonValue({ maxDepth: 1 }),
  );
  const badLines = fc.oneof(
    fc.constant([]),
    fc.array(cartLine(), { minLength: MAX_CART_LINES + 1, maxLength: MAX_CART_LINES + 3 }),
    fc.tuple(lines, fc.integer({ min: 1, max: MAX_LINE_QUANTITY })).map(([first, quantity]) => [...first, { ...first[0], quantity }]),
    fc.array(badLine, { minLength: 1, maxLength: 3 }),
    fc.jsonValue({ maxDepth: 1 }),
  );
  return fc.oneof(
    fc.record({ storeId: badId, items: lines }),
    fc.record({ storeId: store, items: badLines }),
    fc.record({ storeId: store, items: lines }, { requiredKeys: [] }),
    fc.record({ storeId: store, items: lines, foodId: fc.constant(foodId) }),
    fc.tuple(store, lines, unknownField).map(([id, items, field]) => ({ storeId: id, items, [field]: 1 })),
  );
}

const httpCases = () => {
  // Either form of a valid order, for the cases where the body is never read.
  const validOrder = fc.constantFrom(JSON.stringify({ foodId }), JSON.stringify({ storeId, items: [{ foodId, quantity: 2 }] }));
  const adminPath = fc.constantFrom(
    '/foods',
    '/agents',
    `/foods/${foodId}/packets`,
    '/stores',
    `/stores/${storeId}/packets`,
    `/stores/${storeId}/agents`,
  );
  return fc
    .oneof(
      fc
        .oneof(
          fc.jsonValue(),
          fc.record({ foodId: badId }),
          fc.tuple(unknownField, fc.jsonValue()).map(([k, v]) => ({ foodId, [k]: v })),
          badCart(),
        )
        .filter((value) => !isValidOrderBody(value))
        .map((value): HttpCase => ({
          kind: 'order body',
          method: 'POST',
          path: '/orders',
          headers: JSON_TYPE,
          body: JSON.stringify(value),
          expected: [400],
        })),
      fc
        .tuple(
          fc.constantFrom('/orders', '/foods', '/agents', `/foods/${foodId}/packets`, '/stores', `/stores/${storeId}/packets`),
          fc.string({ maxLength: 40 }),
        )
        .filter(([, text]) => !parses(text))
        .map(([path, body]): HttpCase => ({ kind: 'broken JSON', method: 'POST', path, headers: ADMIN, body, expected: [400] })),
      fc
        .oneof(
          fc.constantFrom(
            'text/plain',
            'application/xml',
            'text/html',
            'multipart/form-data; boundary=x',
            'application/x-www-form-urlencoded',
            'application/octet-stream',
          ),
          fc.constantFrom('application/json; charset=latin1', 'application/json; charset=ascii-x'),
          printable(30).filter((type) => !/json/i.test(type)),
        )
        .chain((type) => validOrder.map((body) => ({ type, body })))
        .map(({ type, body }): HttpCase => ({
          kind: 'content type',
          method: 'POST',
          path: '/orders',
          headers: { 'content-type': type },
          body,
          expected: [415],
        })),
      fc.integer({ min: BODY_LIMIT + 1, max: BODY_LIMIT * 3 }).map((size): HttpCase => ({
        kind: 'too large',
        method: 'POST',
        path: '/orders',
        headers: JSON_TYPE,
        body: JSON.stringify({ foodId, pad: 'x'.repeat(size) }),
        expected: [413],
      })),
      fc
        .oneof(printable(120), fc.stringMatching(/^[a-z]{101,140}$/))
        .filter((key) => !IDEMPOTENCY_KEY.test(key.trim()))
        .chain((key) => validOrder.map((body) => ({ key, body })))
        .map(({ key, body }): HttpCase => ({
          kind: 'idempotency key',
          method: 'POST',
          path: '/orders',
          headers: { ...JSON_TYPE, 'idempotency-key': key },
          body,
          expected: [400],
        })),
      fc
        .tuple(
          fc.oneof(
            fc.uuid({ version: 4 }).map((id) => ({ id, expected: [404] })),
            // Made-up UUIDv7 ids old enough to count as lost had a gateway minted them: still 404, no row.
            fc.integer({ min: 0, max: Date.now() - 60_000 }).map((msecs) => ({ id: v7({ msecs }), expected: [404] })),
            printable(40)
              .filter((id) => !['', '.', '..'].includes(id) && !/^[0-9a-f-]{36}$/i.test(id))
              .map((id) => ({ id: encodeURIComponent(id), expected: [400, 404] })),
          ),
          fc.boolean(),
        )
        .map(([{ id, expected }, deliver]): HttpCase =>
          // Marking delivered is an admin endpoint: without the key, 401 whatever the id.
          ({
            kind: 'order id',
            method: deliver ? 'POST' : 'GET',
            path: `/orders/${id}${deliver ? '/delivered' : ''}`,
            headers: {},
            expected: deliver ? [401] : expected,
          }),
        ),
      fc
        .tuple(
          adminPath,
          fc.oneof(
            fc.constant({ name: 'Free food', packets: 5 }),
            fc.constant({ count: 5 }),
            fc.constant({ name: 'Free store' }),
            fc.constant({ foodId, count: 5 }),
            fc.dictionary(word, fc.jsonValue({ maxDepth: 1 })),
          ),
          fc.option(printable(40).filter((key) => key.trim() !== TEST_ADMIN_KEY)),
        )
        .map(([path, body, key]): HttpCase => ({
          kind: 'no admin key',
          method: 'POST',
          path,
          headers: key === null ? JSON_TYPE : { ...JSON_TYPE, 'x-api-key': key },
          body: JSON.stringify(body),
          expected: [401],
        })),
      fc.tuple(adminPath, fc.dictionary(word, fc.jsonValue({ maxDepth: 1 })), unknownField).map(([path, body, extra]): HttpCase => ({
        kind: 'admin body',
        method: 'POST',
        path,
        headers: ADMIN,
        body: JSON.stringify({ ...body, [extra]: 1 }),
        expected: [400],
      })),
      fc
        .tuple(
          fc.oneof(word, fc.integer({ min: 1_000_000, max: MAX_ID }).map(String)),
          fc.integer({ min: 1, max: 10 }),
          fc.constantFrom(
            (id: string, count: number) => ({ kind: 'unknown food', method: 'POST', path: `/foods/${id}/packets`, body: { count } }),
            (id: string, count: number) => ({
              kind: 'unknown store',
              method: 'POST',
              path: `/stores/${id}/packets`,
              body: { foodId, count },
            }),
            (id: string, count: number) => ({ kind: 'unknown store', method: 'POST', path: `/stores/${id}/agents`, body: { count } }),
            (id: string) => ({ kind: 'unknown store', method: 'GET', path: `/stores/${id}`, body: undefined }),
          ),
        )
        .map(([id, count, request]): HttpCase => {
          const { kind, method, path, body } = request(id, count);
          return {
            kind,
            method,
            path,
            headers: body === undefined ? {} : ADMIN,
            body: body === undefined ? undefined : JSON.stringify(body),
            expected: /^\d+$/.test(id) ? [404] : [400],
          };
        }),
      fc
        .tuple(fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE'), fc.array(word, { minLength: 1, maxLength: 4 }))
        .map(([method, parts]): HttpCase => ({
          kind: 'unknown route',
          method,
          path: `/x-${parts.join('/')}`,
          headers: {},
          expected: [404],
        })),
      fc
        .tuple(
          fc.constantFrom('PUT', 'PATCH', 'DELETE'),
          fc.constantFrom('/orders', '/foods', '/agents', '/health', `/orders/${randomUUID()}`, '/stores', `/stores/${storeId}`),
        )
        .map(([method, path]): HttpCase => ({ kind: 'wrong method', method, path, headers: {}, expected: [405] })),
      fc
        .tuple(
          fc.constantFrom('/foods', '/agents', '/health', `/orders/${randomUUID()}`, '/stores', `/stores/${storeId}`),
          fc.array(fc.tuple(word, printable(20)), { minLength: 1, maxLength: 3 }),
        )
        .map(([path, pairs]): HttpCase => ({
          kind: 'query',
          method: 'GET',
          path: `${path}?${pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')}`,
          headers: {},
          expected: [400],
        })),
      fc
        .constantFrom('/orders/%', '/orders/%E0%A4%A', '/foods/%zz/packets', '/orders/%C0%AF/delivered', '/stores/%zz/agents')
        .map((path): HttpCase => ({
          kind: 'bad encoding',
          method: /packets|agents|delivered/.test(path) ? 'POST' : 'GET',
          path,
          headers: ADMIN,
          expected: [400, 404],
        })),
    )
    .map((c) => readable(c, c.body));
};

/** A failing case printed short: kind, the start of its body or bytes, and the rest of its fields. */
function readable<T extends { kind: string }>(value: T, body: string | undefined): T {
  const shown =
    body === undefined ? '' : ` ${JSON.stringify(body.length > 120 ? `${body.slice(0, 120)}... (${body.length} chars)` : body)}`;
  return Object.assign(value, {
    [fc.toStringMethod]: () => `${value.kind}${shown} ${JSON.stringify({ ...value, body: undefined, content: undefined })}`,
  });
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

async function sendHttp(c: HttpCase): Promise<{ status: number; type: string; body: unknown }> {
  const res = await fetch(t.url + c.path, { method: c.method, headers: c.headers, body: c.body });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  t.expectDocumented(c, { status: res.status, headers: res.headers, body });
  return { status: res.status, type: res.headers.get('content-type') ?? '', body };
}

// ---------------------------------------------------------------------------------------------
// Raw messages, each with what must become of it
// ---------------------------------------------------------------------------------------------

interface RawCase {
  kind: string;
  content: Buffer;
  reply: boolean;
  /** The contract error code of the expected reply; undefined: no reply. */
  replyCode?: ErrorCode;
  deadLettered: boolean;
}

const QUEUES: QueueName[] = Object.values(Queue);
// Order ids as the gateway mints them: a command or reserve refuses any other version.
const orderId = fc.uuid({ version: 7 });
const positive = fc.integer({ min: 1, max: 1000 });

/** Patterns that take a payload DTO, with payloads that pass it: run, they would change data. */
function validPayloads(queue: QueueName): [string, fc.Arbitrary<Record<string, unknown>>][] {
  const food = fc.constant(foodId);
  const store = fc.constantFrom(DEFAULT_STORE_ID, storeId);
  // The one food of the suite: a cart of one line.
  const items = fc.integer({ min: 1, max: MAX_LINE_QUANTITY }).map((quantity) => [{ foodId, quantity }]);
  const idempotencyKey = fc.uuid({ version: 4 });
  switch (queue) {
    case Queue.STORE:
      return [
        [StorePattern.RESERVE_CART, fc.record({ orderId, storeId: store, items })],
        [StorePattern.ASSIGN_PACKETS, fc.record({ orderId, packetIds: fc.uniqueArray(positive, { minLength: 1, maxLength: 3 }) })],
        [StorePattern.RELEASE_PACKETS, fc.record({ orderId })],
      ];
    case Queue.STORE_ADMIN:
      return [
        [StorePattern.CREATE_STORE, fc.record({ name: word, idempotencyKey })],
        [StorePattern.CREATE_FOOD, fc.record({ name: word, packets: positive, idempotencyKey })],
        [StorePattern.ADD_PACKETS, fc.record({ storeId: store, foodId: food, count: positive, idempotencyKey })],
      ];
    case Queue.DELIVERY:
      return [
        [DeliveryPattern.RESERVE_AGENT, fc.record({ orderId, storeId: store, attempt: positive })],
        [DeliveryPattern.ASSIGN_AGENT, fc.record({ orderId, agentId: positive })],
        [DeliveryPattern.RELEASE_AGENT, fc.record({ orderId })],
        [DeliveryPattern.YIELD_AGENT, fc.record({ orderId, agentId: positive, attempt: positive })],
        [DeliveryPattern.COMPLETE_DELIVERY, fc.record({ orderId })],
      ];
    case Queue.DELIVERY_ADMIN:
      return [[DeliveryPattern.CREATE_AGENTS, fc.record({ storeId: store, count: positive, idempotencyKey })]];
    case Queue.ORDER:
      return [
        [OrderPattern.PLACE_ORDER, fc.record({ orderId, storeId: store, items, deadline: fc.constant(Date.now() + 60_000) })],
        [OrderPattern.GET_ORDER, fc.record({ orderId })],
        [OrderPattern.MARK_DELIVERED, fc.record({ orderId })],
      ];
  }
}

const frame = (packet: unknown) => Buffer.from(JSON.stringify(packet));

function rawCases(queue: QueueName): fc.Arbitrary<RawCase> {
  const requestOf = (payloads: [string, fc.Arbitrary<Record<string, unknown>>][]) =>
    fc.oneof(...payloads.map(([pattern, payload]) => fc.tuple(fc.constant(pattern), payload)));
  const request = requestOf(validPayloads(queue));
  // Valid requests of the other queues: a service runs a pattern only from the queue that carries it.
  const elsewhere = requestOf(QUEUES.filter((other) => other !== queue).flatMap(validPayloads));
  return fc
    .oneof(
      fc
        .tuple(fc.uint8Array({ maxLength: 120 }), fc.boolean())
        // A leading 0xff is never valid UTF-8, so the body is never JSON.
        .map(([bytes, reply]): RawCase => ({
          kind: 'not JSON',
          content: Buffer.concat([Buffer.from([0xff]), bytes]),
          reply,
          deadLettered: true,
        })),
      fc
        .tuple(fc.oneof(fc.integer(), fc.string(), fc.boolean(), fc.constant(null), fc.array(fc.jsonValue({ maxDepth: 2 }))), fc.boolean())
        .map(([value, reply]): RawCase => ({ kind: 'not an object', content: frame(value), reply, deadLettered: true })),
      fc
        .tuple(
          fc.oneof(fc.integer(), fc.constant(null), fc.boolean(), fc.object({ maxDepth: 1 })),
          fc.jsonValue({ maxDepth: 2 }),
          fc.boolean(),
        )
        .map(([pattern, data, reply]): RawCase => ({
          kind: 'no pattern',
          content: frame({ pattern, data, id: randomUUID() }),
          reply,
          deadLettered: true,
        })),
      fc.tuple(elsewhere, fc.boolean()).map(([[pattern, data], reply]): RawCase => ({
        kind: 'wrong queue',
        content: frame({ pattern, data, id: randomUUID() }),
        reply,
        replyCode: reply ? ErrorCode.UNKNOWN_PATTERN : undefined,
        deadLettered: true,
      })),
      fc.tuple(word, fc.jsonValue({ maxDepth: 2 }), fc.boolean()).map(([name, data, reply]): RawCase => ({
        kind: 'unknown pattern',
        content: frame({ pattern: `fuzz.${name}`, data, id: randomUUID() }),
        reply,
        replyCode: reply ? ErrorCode.UNKNOWN_PATTERN : undefined,
        deadLettered: true,
      })),
      fc
        .tuple(
          request,
          fc.oneof(
            unknownField.map((field) => ({ field })),
            fc.oneof(fc.integer(), fc.string(), fc.constant(null), fc.array(fc.jsonValue({ maxDepth: 1 }))).map((value) => ({ value })),
          ),
        )
        .map(([[pattern, payload], spoil]): RawCase => ({
          kind: 'invalid payload',
          content: frame({ pattern, data: 'field' in spoil ? { ...payload, [spoil.field]: 1 } : spoil.value, id: randomUUID() }),
          reply: true,
          replyCode: ErrorCode.VALIDATION_FAILED,
          deadLettered: false,
        })),
      fc.tuple(request, fc.boolean()).map(([[pattern, data], withId]): RawCase => ({
        // Valid, but a reply could reach nobody (no reply-to), or it is framed as an event (no id).
        kind: withId ? 'no reply-to' : 'no id',
        content: frame(withId ? { pattern, data, id: randomUUID() } : { pattern, data }),
        reply: !withId,
        deadLettered: true,
      })),
    )
    .map((c) => readable(c, c.content.toString()));
}

// ---------------------------------------------------------------------------------------------

describe('fuzzing the gateway and the service queues', () => {
  it('answers every malformed input with a clear 4xx or contract error, and changes nothing', async () => {
    const before = await snapshotDatabases(t);
    const httpStatuses: Record<string, number> = {};
    const httpKinds: Record<string, number> = {};
    const seed = Date.now();

    await Promise.all(
      Array.from({ length: HTTP_LANES }, (_, lane) =>
        fc.assert(
          fc.asyncProperty(httpCases(), async (c) => {
            const res = await sendHttp(c);
            httpStatuses[res.status] = (httpStatuses[res.status] ?? 0) + 1;
            httpKinds[c.kind] = (httpKinds[c.kind] ?? 0) + 1;
            const body = res.body as { code?: unknown; message?: unknown };
            // The request is part of what a failure prints: the seed alone does not replay four lanes.
            expect({
              kind: c.kind,
              request: `${c.method} ${c.path} ${c.body}`,
              status: res.status,
              expected: c.expected.includes(res.status),
            }).toEqual({
              kind: c.kind,
              request: `${c.method} ${c.path} ${c.body}`,
              status: res.status,
              expected: true,
            });
            expect(res.type).toMatch(/^application\/json/);
            expect(typeof body.code).toBe('string');
            expect(typeof body.message).toBe('string');
          }),
          { numRuns: HTTP_RUNS_PER_LANE, seed: seed + lane, endOnFailure: true },
        ),
      ),
    );

    const messages: Record<string, { sent: number; replies: Record<string, number>; deadLettered: number }> = {};
    const messageKinds: Record<string, number> = {};
    for (const queue of Object.values(Queue)) messages[queue] = { sent: 0, replies: {}, deadLettered: 0 };
    const batches = fc.record(
      Object.fromEntries(
        QUEUES.map((queue) => [queue, fc.array(rawCases(queue), { minLength: MESSAGE_BATCH, maxLength: MESSAGE_BATCH })]),
      ) as Record<QueueName, fc.Arbitrary<RawCase[]>>,
    );

    await fc.assert(
      fc.asyncProperty(batches, async (batch) => {
        const queues = Object.values(Queue);
        for (const queue of queues) await broker.drainDeadLetters(queue);
        const sent = queues.flatMap((queue) =>
          batch[queue].map((c) => {
            messageKinds[c.kind] = (messageKinds[c.kind] ?? 0) + 1;
            return { queue, c, correlationId: broker.publish(queue, c.content, { reply: c.reply, persistent: true }) };
          }),
        );
        const expectedReplies = sent.filter(({ c }) => c.replyCode);
        const expectedDead = (queue: QueueName) => batch[queue].filter((c) => c.deadLettered).length;

        await t.until(
          async () =>
            expectedReplies.every(({ correlationId }) => broker.reply(correlationId)) &&
            (await Promise.all(queues.map(async (queue) => (await broker.depth(queue)).deadLettered >= expectedDead(queue)))).every(
              Boolean,
            ),
          20_000,
          'every reply and dead letter',
        );
        for (const queue of queues) {
          const depth = await broker.depth(queue);
          expect({ queue, ...depth }).toEqual({ queue, ready: 0, deadLettered: expectedDead(queue) });
          messages[queue].deadLettered += (await broker.drainDeadLetters(queue)).length;
        }
        for (const { queue, c, correlationId } of sent) {
          const reply = c.reply ? (broker.reply(correlationId) as { err?: { code?: string } } | undefined) : undefined;
          const code = reply ? (reply.err?.code ?? 'success') : 'none';
          messages[queue].sent += 1;
          messages[queue].replies[code] = (messages[queue].replies[code] ?? 0) + 1;
          expect({ kind: c.kind, code }).toEqual({ kind: c.kind, code: c.replyCode ?? 'none' });
        }
      }),
      { numRuns: MESSAGE_RUNS, seed, endOnFailure: true },
    );

    const httpTried = Object.values(httpStatuses).reduce((a, b) => a + b, 0);
    console.log(
      [
        `Fuzz (seed ${seed}):`,
        `  HTTP: ${httpTried} requests tried; answers by status ${JSON.stringify(httpStatuses)}`,
        `        by kind ${JSON.stringify(httpKinds)}`,
        ...Object.entries(messages).map(
          ([queue, m]) =>
            `  queue ${queue}: ${m.sent} raw messages tried; replies by code ${JSON.stringify(m.replies)}; dead-lettered ${m.deadLettered}`,
        ),
        `        by kind ${JSON.stringify(messageKinds)}`,
      ].join('\n'),
    );

    expect(httpTried).toBe(HTTP_LANES * HTTP_RUNS_PER_LANE);
    expect((await t.get('/health')).status).toBe(200);
    const report = await t.settled();
    expect(report.violations).toEqual([]);
    expect(report.pending).toBe(0);
    expect(await snapshotDatabases(t)).toEqual(before);
  });
});
