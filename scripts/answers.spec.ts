import { NotPlacedReason, newOrderId, OrderState } from '@app/contracts';
import { Cart, Exchange, judgeAnswers, OrderRow, singleFoodCart } from './answers';

const LOST_AFTER_MS = 8000;
const SECRET = 'answers-spec-secret';
const [placed, refused, delivered, reserving, single, noAgent, lost] = Array.from({ length: 7 }, () => newOrderId(SECRET));

// Two dark stores: 1 (the default) and 2. Foods 7 and 8 are of the shared catalogue.
const CART: Cart = {
  storeId: 2,
  items: [
    { foodId: 7, quantity: 2 },
    { foodId: 8, quantity: 1 },
  ],
};
const SHORT: Cart = {
  storeId: 2,
  items: [
    { foodId: 7, quantity: 3 },
    { foodId: 8, quantity: 2 },
  ],
};
const PLACED_LINES = [
  { foodId: 7, quantity: 2, packetIds: [11, 12] },
  { foodId: 8, quantity: 1, packetIds: [13] },
];

const ORDERS = new Map<string, OrderRow>(
  [
    { id: placed, state: OrderState.PLACED, reason: null, storeId: 2, items: PLACED_LINES, agentId: 2, key: 'k-placed' },
    {
      id: refused,
      state: OrderState.NOT_PLACED,
      reason: NotPlacedReason.OUT_OF_STOCK,
      storeId: 2,
      items: [
        { foodId: 7, quantity: 3, packetIds: [] },
        { foodId: 8, quantity: 2, packetIds: [], missing: 1 },
      ],
      agentId: null,
      key: 'k-refused',
    },
    {
      id: delivered,
      state: OrderState.DELIVERED,
      reason: null,
      storeId: 1,
      items: [{ foodId: 7, quantity: 1, packetIds: [3] }],
      agentId: 4,
      key: null,
    },
    {
      id: reserving,
      state: OrderState.RESERVING,
      reason: null,
      storeId: 2,
      items: [{ foodId: 8, quantity: 1, packetIds: [] }],
      agentId: null,
      key: null,
    },
    {
      id: single,
      state: OrderState.PLACED,
      reason: null,
      storeId: 2,
      items: [{ foodId: 8, quantity: 1, packetIds: [21] }],
      agentId: 5,
      key: 'k-single',
    },
    {
      id: noAgent,
      state: OrderState.NOT_PLACED,
      reason: NotPlacedReason.NO_AGENT,
      storeId: 1,
      items: [{ foodId: 8, quantity: 1, packetIds: [] }],
      agentId: null,
      key: null,
    },
    { id: lost, state: OrderState.NOT_PLACED, reason: NotPlacedReason.REQUEST_LOST, storeId: null, items: [], agentId: null, key: null },
  ].map((o) => [o.id, o]),
);

const post = (status: Exchange['status'], body: Record<string, unknown>, key?: string, cart: Cart = CART): Exchange => ({
  route: 'POST /orders',
  status,
  body,
  key,
  cart,
});
const get = (orderId: string, status: number, body: Record<string, unknown> = {}, sentAt = Date.now()): Exchange => ({
  route: 'GET /orders/:id',
  orderId,
  status,
  body: { orderId, ...body },
  sentAt,
  answeredAt: sentAt,
});
const judge = (...exchanges: Exchange[]) => judgeAnswers(exchanges, ORDERS, LOST_AFTER_MS).map((v) => v.message);

const PLACED_ANSWER = { orderId: placed, state: 'PLACED', storeId: 2, items: PLACED_LINES, agentId: 2 };
const SINGLE_ANSWER = { orderId: single, storeId: 2, items: [{ foodId: 8, quantity: 1, packetIds: [21] }], agentId: 5 };
const SINGLE_CART: Cart = { storeId: 2, items: [{ foodId: 8, quantity: 1 }] };
const REFUSED_ANSWER = { orderId: refused, code: 'OUT_OF_STOCK', details: [{ foodId: 8, missing: 1 }] };

describe('judgeAnswers (I4)', () => {
  it('accepts answers that tell the truth', () => {
    expect(
      judge(
        post(201, PLACED_ANSWER, 'k-placed'),
        // The same cart listed in another order is the same cart.
        post(201, PLACED_ANSWER, 'k-placed', { storeId: 2, items: [...CART.items].reverse() }),
        post(202, { idempotencyKey: 'k-placed' }, 'k-placed'),
        post(409, REFUSED_ANSWER, 'k-refused', SHORT),
        post(201, { ...SINGLE_ANSWER, foodId: 8, packetId: 21 }, 'k-single', SINGLE_CART),
        post(
          201,
          { orderId: delivered, storeId: 1, items: [{ foodId: 7, quantity: 1, packetIds: [3] }], agentId: 4, foodId: 7, packetId: 3 },
          undefined,
          singleFoodCart(7),
        ),
        post(409, { orderId: noAgent, code: 'NO_AGENT' }, undefined, singleFoodCart(8)),
        // Pending, then recorded lost: its command never arrived, so the order has no cart.
        post(202, { orderId: lost }),
        post(422, { code: 'IDEMPOTENCY_KEY_REUSED' }, 'k-placed', SHORT),
        post(503, { code: 'SERVICE_UNAVAILABLE' }),
        // The key's order is of another cart: this 503 says nothing of it.
        post(503, { code: 'SERVICE_UNAVAILABLE' }, 'k-placed', SHORT),
        post(500, { code: 'INTERNAL' }, 'k-placed'),
        post('no-answer', {}, 'k-refused', SHORT),
        get(placed, 200, { ...PLACED_ANSWER }),
        get(single, 200, { ...SINGLE_ANSWER, state: 'PLACED', foodId: 8, packetId: 21 }),
        get(reserving, 200, { state: 'RESERVING', storeId: 2, items: [{ foodId: 8, quantity: 1, packetIds: [] }] }),
        { route: 'POST /orders/:id/delivered', orderId: delivered, status: 200, body: { state: 'DELIVERING' } },
        { route: 'POST /stores/:id/agents', status: 201 },
        { route: 'POST /stores/:id/packets', status: 503 },
        { route: 'POST /agents', status: 201 },
      ),
    ).toEqual([]);
  });

  it('flags a 201 for an order that is not placed', () => {
    expect(judge(post(201, { ...PLACED_ANSWER, orderId: refused }, undefined, SHORT))).toEqual([
      expect.stringContaining('that is NOT_PLACED'),
    ]);
  });

  it('flags a 201 naming another store, other packets or another agent than the order holds', () => {
    expect(judge(post(201, { ...PLACED_ANSWER, storeId: 1 }))).toEqual([expect.stringContaining('showing dark store 1')]);
    expect(judge(post(201, { ...PLACED_ANSWER, agentId: 9 }))).toEqual([expect.stringContaining('agent 9 for order')]);
    const swapped = [
      { foodId: 7, quantity: 2, packetIds: [11, 13] },
      { foodId: 8, quantity: 1, packetIds: [12] },
    ];
    expect(judge(post(201, { ...PLACED_ANSWER, items: swapped }))).toEqual([
      expect.stringContaining('that holds dark store 2, [1 x food 8 (packets 13), 2 x food 7 (packets 11 12)]'),
    ]);
    expect(judge(post(201, { ...PLACED_ANSWER, items: PLACED_LINES.slice(0, 1) }))).toEqual([expect.stringContaining('showing')]);
  });

  it('flags a 201 of one packet without its packet, or of several with one', () => {
    expect(judge(post(201, { ...SINGLE_ANSWER, foodId: 8, packetId: 22 }, 'k-single', SINGLE_CART))).toEqual([
      expect.stringContaining('packet 22 for order'),
    ]);
    expect(judge(post(201, SINGLE_ANSWER, 'k-single', SINGLE_CART))).toEqual([expect.stringContaining('of one packet')]);
    expect(judge(post(201, { ...PLACED_ANSWER, foodId: 7, packetId: 11 }))).toEqual([expect.stringContaining('of several packets')]);
  });

  it('flags an answer naming an order of another cart than the request asked for', () => {
    expect(judge(post(201, PLACED_ANSWER, undefined, { storeId: 1, items: CART.items }))).toEqual([
      expect.stringContaining('for the cart of dark store 1: 2 x food 7, 1 x food 8 with order'),
    ]);
    expect(judge(post(409, REFUSED_ANSWER, undefined, CART))).toEqual([expect.stringContaining('of the cart of dark store 2: 3 x food 7')]);
  });

  it('flags "not placed" for a placed order, or with another reason than the order carries', () => {
    expect(judge(post(409, { orderId: placed, code: 'NO_AGENT' }))).toEqual([expect.stringContaining('that is PLACED')]);
    expect(judge(post(409, { orderId: refused, code: 'NO_AGENT' }, undefined, SHORT))).toEqual([
      expect.stringContaining('NOT_PLACED for OUT_OF_STOCK'),
    ]);
    expect(judge(post(503, { code: 'SERVICE_UNAVAILABLE' }, 'k-placed'))).toEqual([
      expect.stringContaining(`key's order ${placed} is PLACED`),
    ]);
  });

  it('flags an OUT_OF_STOCK refusal that names other foods or counts than the order records as missing', () => {
    for (const details of [
      undefined,
      [{ foodId: 7, missing: 1 }],
      [{ foodId: 8, missing: 2 }],
      [...REFUSED_ANSWER.details, { foodId: 7, missing: 1 }],
    ]) {
      expect(judge(post(409, { ...REFUSED_ANSWER, details }, 'k-refused', SHORT))).toEqual([
        expect.stringContaining('that records [1 of food 8]'),
      ]);
    }
  });

  it('flags answers to one key that name another order than the key made', () => {
    expect(judge(post(201, { ...SINGLE_ANSWER, foodId: 8, packetId: 21 }, 'k-placed', SINGLE_CART))).toEqual([
      expect.stringContaining(`for key k-placed, whose order is ${placed}`),
    ]);
  });

  it('flags IDEMPOTENCY_KEY_REUSED for a key whose order is of the same cart, or that made no order', () => {
    expect(judge(post(422, { code: 'IDEMPOTENCY_KEY_REUSED' }, 'k-placed', CART))).toEqual([
      expect.stringContaining(`the key's order ${placed} is of the same cart`),
    ]);
    expect(judge(post(422, { code: 'IDEMPOTENCY_KEY_REUSED' }, 'k-unknown', CART))).toEqual([
      expect.stringContaining('but no order has key k-unknown'),
    ]);
    expect(judge(post(422, { code: 'IDEMPOTENCY_KEY_REUSED' }, undefined, CART))).toEqual([expect.stringContaining('answered 422')]);
  });

  it('flags one order given as the answer to two different requests', () => {
    const answer = post(201, PLACED_ANSWER);
    expect(judge(answer, answer)).toEqual([expect.stringContaining('the answer to 2 different requests')]);
  });

  it('flags a pending order that never settled', () => {
    expect(judge(post(202, { orderId: reserving }, undefined, { storeId: 2, items: [{ foodId: 8, quantity: 1 }] }))).toEqual([
      expect.stringContaining('never settled: RESERVING'),
    ]);
  });

  it('flags a look-up that showed a state the order could not have left, another store or cart, or not found an order known to exist', () => {
    expect(judge(get(refused, 200, { ...PLACED_ANSWER, orderId: refused }))).toEqual([
      expect.stringContaining('was PLACED but ended NOT_PLACED'),
    ]);
    expect(judge(get(placed, 200, { ...PLACED_ANSWER, storeId: 1 }))).toEqual([
      expect.stringContaining('showed dark store 1, the database 2'),
    ]);
    expect(judge(get(placed, 200, { ...PLACED_ANSWER, agentId: 3 }))).toEqual([expect.stringContaining('agent 3 for order')]);
    const told = { ...post(409, REFUSED_ANSWER, undefined, SHORT), answeredAt: Date.now() - 1000 };
    expect(judge(told, get(refused, 404))).toEqual([expect.stringContaining('an earlier answer had named the order')]);
    expect(judge(get(reserving, 404))).toEqual([]);
    const old = newOrderId(SECRET, Date.now() - LOST_AFTER_MS - 5000);
    expect(judge(get(old, 404))).toEqual([expect.stringContaining('minted')]);
  });

  it('takes a look-up answered 202 PENDING for an order not seen yet, and flags one that denies or contradicts a pending order', () => {
    const young = newOrderId(SECRET, Date.now());
    // The POST's own 202 is judged once the order has settled; here only the look-ups are.
    const lookUps = (...exchanges: Exchange[]) => judge(...exchanges).filter((v) => v.startsWith('GET'));
    const toldPending = post(202, { orderId: young });
    const notSeen = { orderId: young, state: 'PENDING', message: 'Not started yet' };
    expect(lookUps(toldPending, get(young, 202, notSeen))).toEqual([]);
    // Told "pending" by the POST: the id was minted, so a look-up must not call it unknown.
    expect(lookUps(toldPending, get(young, 404))).toEqual([expect.stringContaining('a POST was answered with this id')]);
    expect(judge(get(young, 202, { state: 'PLACED' }))).toEqual([expect.stringContaining('not PENDING')]);
    const told = { ...post(409, REFUSED_ANSWER, undefined, SHORT), answeredAt: Date.now() - 1000 };
    expect(judge(told, get(refused, 202, notSeen))).toEqual([expect.stringContaining('an earlier answer had named the order')]);
    const old = newOrderId(SECRET, Date.now() - LOST_AFTER_MS - 5000);
    expect(judge(get(old, 202, notSeen))).toEqual([expect.stringContaining('minted')]);
  });

  it('flags a look-up answered 404 or 202 PENDING sent well after the order was recorded, though no answer had named it', () => {
    const recorded = newOrderId(SECRET, Date.now() - 6000);
    const row = { id: recorded, state: OrderState.RESERVING, reason: null, storeId: 2, items: [], agentId: null, key: null };
    const notSeen = { orderId: recorded, state: 'PENDING', message: 'Not started yet' };
    const judgeWith = (createdAt: number, ...exchanges: Exchange[]) =>
      judgeAnswers(exchanges, new Map([...ORDERS, [recorded, { ...row, createdAt }]]), LOST_AFTER_MS).map((v) => v.message);
    const longAgo = Date.now() - 5000;
    expect(judgeWith(longAgo, get(recorded, 202, notSeen))).toEqual([expect.stringMatching(/recorded \d+ ms before the look-up/)]);
    expect(judgeWith(longAgo, get(recorded, 404))).toEqual([expect.stringMatching(/recorded \d+ ms before the look-up/)]);
    // A look-up sent as the order was being recorded may miss it: its row is seen from its commit.
    expect(judgeWith(Date.now() - 100, get(recorded, 202, notSeen), get(recorded, 404))).toEqual([]);
  });

  it('flags a refused delivery of a placed order and an unexpected status', () => {
    expect(
      judge({ route: 'POST /orders/:id/delivered', orderId: delivered, status: 409, body: { code: 'ORDER_NOT_DELIVERABLE' } }),
    ).toEqual([expect.stringContaining('refused, but the order is DELIVERED')]);
    expect(judge(post(400, { code: 'VALIDATION_FAILED' }, 'k-placed'))).toEqual([expect.stringContaining('answered 400')]);
    expect(judge({ route: 'POST /stores/:id/packets', status: 404 })).toEqual([expect.stringContaining('answered 404')]);
  });
});
