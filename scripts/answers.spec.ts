import { NotPlacedReason, newOrderId, OrderState } from '@app/contracts';
import { Exchange, judgeAnswers, OrderRow } from './answers';

const LOST_AFTER_MS = 8000;
const SECRET = 'answers-spec-secret';
const placed = newOrderId(SECRET);
const refused = newOrderId(SECRET);
const delivered = newOrderId(SECRET);
const reserving = newOrderId(SECRET);

const ORDERS = new Map<string, OrderRow>(
  [
    { id: placed, state: OrderState.PLACED, reason: null, packetId: 1, agentId: 2, key: 'k-placed' },
    { id: refused, state: OrderState.NOT_PLACED, reason: NotPlacedReason.OUT_OF_STOCK, packetId: null, agentId: null, key: 'k-refused' },
    { id: delivered, state: OrderState.DELIVERED, reason: null, packetId: 3, agentId: 4, key: null },
    { id: reserving, state: OrderState.RESERVING, reason: null, packetId: null, agentId: null, key: null },
  ].map((o) => [o.id, o]),
);

const post = (status: Exchange['status'], body: Record<string, unknown>, key?: string): Exchange => ({
  route: 'POST /orders',
  status,
  body,
  key,
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

describe('judgeAnswers (I4)', () => {
  it('accepts answers that tell the truth', () => {
    expect(
      judge(
        post(201, { orderId: placed, packetId: 1, agentId: 2 }, 'k-placed'),
        post(201, { orderId: placed, packetId: 1, agentId: 2 }, 'k-placed'),
        post(202, { idempotencyKey: 'k-placed' }, 'k-placed'),
        post(409, { orderId: refused, code: 'OUT_OF_STOCK' }, 'k-refused'),
        post(201, { orderId: delivered, packetId: 3, agentId: 4 }),
        post(503, { code: 'SERVICE_UNAVAILABLE' }),
        post(500, { code: 'INTERNAL' }, 'k-placed'),
        post('no-answer', {}, 'k-refused'),
        get(placed, 200, { state: 'PLACED', packetId: 1, agentId: 2 }),
        get(reserving, 200, { state: 'RESERVING' }),
        { route: 'POST /orders/:id/delivered', orderId: delivered, status: 200, body: { state: 'DELIVERING' } },
        { route: 'POST /agents', status: 201 },
      ),
    ).toEqual([]);
  });

  it('flags a 201 for an order that is not placed, or with another packet or agent than it holds', () => {
    expect(judge(post(201, { orderId: refused, packetId: 1, agentId: 2 }))).toEqual([expect.stringContaining('that is NOT_PLACED')]);
    expect(judge(post(201, { orderId: placed, packetId: 1, agentId: 9 }))).toEqual([expect.stringContaining('holds packet 1 and agent 2')]);
  });

  it('flags "not placed" for a placed order, or with another reason than the order carries', () => {
    expect(judge(post(409, { orderId: placed, code: 'NO_AGENT' }))).toEqual([expect.stringContaining('that is PLACED')]);
    expect(judge(post(409, { orderId: refused, code: 'NO_AGENT' }))).toEqual([expect.stringContaining('NOT_PLACED for OUT_OF_STOCK')]);
    expect(judge(post(503, { code: 'SERVICE_UNAVAILABLE' }, 'k-placed'))).toEqual([
      expect.stringContaining(`key's order ${placed} is PLACED`),
    ]);
  });

  it('flags answers to one key that name another order than the key made', () => {
    expect(judge(post(201, { orderId: delivered, packetId: 3, agentId: 4 }, 'k-placed'))).toEqual([
      expect.stringContaining(`for key k-placed, whose order is ${placed}`),
    ]);
  });

  it('flags one order given as the answer to two different requests', () => {
    const answer = post(201, { orderId: delivered, packetId: 3, agentId: 4 });
    expect(judge(answer, answer)).toEqual([expect.stringContaining('the answer to 2 different requests')]);
  });

  it('flags a pending order that never settled', () => {
    expect(judge(post(202, { orderId: reserving }))).toEqual([expect.stringContaining('never settled: RESERVING')]);
  });

  it('flags a look-up that showed a state the order could not have left, or not found an order known to exist', () => {
    expect(judge(get(refused, 200, { state: 'PLACED', packetId: 1, agentId: 2 }))).toEqual([
      expect.stringContaining('was PLACED but ended NOT_PLACED'),
    ]);
    const told = { ...post(409, { orderId: refused, code: 'OUT_OF_STOCK' }), answeredAt: Date.now() - 1000 };
    expect(judge(told, get(refused, 404))).toEqual([expect.stringContaining('an earlier answer had named the order')]);
    expect(judge(get(reserving, 404))).toEqual([]);
    const old = newOrderId(SECRET, Date.now() - LOST_AFTER_MS - 5000);
    expect(judge(get(old, 404))).toEqual([expect.stringContaining('minted')]);
  });

  it('flags a refused delivery of a placed order and an unexpected status', () => {
    expect(
      judge({ route: 'POST /orders/:id/delivered', orderId: delivered, status: 409, body: { code: 'ORDER_NOT_DELIVERABLE' } }),
    ).toEqual([expect.stringContaining('refused, but the order is DELIVERED')]);
    expect(judge(post(422, { code: 'IDEMPOTENCY_KEY_REUSED' }, 'k-placed'))).toEqual([expect.stringContaining('answered 422')]);
    expect(judge({ route: 'POST /foods/:id/packets', status: 404 })).toEqual([expect.stringContaining('answered 404')]);
  });
});
