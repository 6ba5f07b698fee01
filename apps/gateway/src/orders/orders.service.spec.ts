import { ClientProxy } from '@nestjs/microservices';
import { HttpStatus } from '@nestjs/common';
import { NEVER, Observable, of, throwError } from 'rxjs';
import { BatchProgress, OrderState, OrderView, PlaceOrderCommand } from '@app/contracts';
import { partitionMapOf } from '@app/platform';
import { GatewayEnv } from '../config/gateway.env';
import { Partitions } from '../partitions/partitions';
import { OrdersService } from './orders.service';

/** The order service's queue as the gateway sees it: unreachable (nothing sent), or silent (no reply). */
const unreachable = { connect: () => Promise.reject(new Error('no broker')), send: jest.fn() } as unknown as ClientProxy;
const silent = { connect: () => Promise.resolve(), send: () => NEVER } as unknown as ClientProxy;

const CART = { storeId: 1, items: [{ foodId: 1, quantity: 1 }] };

describe('OrdersService.place when the outcome cannot be learnt', () => {
  const env = Object.assign(new GatewayEnv(), { ORDER_WAIT_MS: 50 });
  const service = (client: ClientProxy) =>
    new OrdersService(new Partitions(partitionMapOf('', env), env.ORDER_ID_SECRET, () => client), env);

  it('answers 202 with the order id when no reply comes in time', async () => {
    const answer = await service(silent).place(CART);
    expect(answer).toMatchObject({ status: HttpStatus.ACCEPTED, body: { state: 'PENDING', orderId: expect.any(String) } });
  });

  it('answers Not Placed when the command certainly was not sent', async () => {
    await expect(service(unreachable).place(CART)).rejects.toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      extra: { state: 'NOT_PLACED' },
    });
  });

  // An earlier request with the key may have made the order: neither this request's fresh id (never
  // recorded, it would later read as lost) nor "not placed" would be true.
  it.each([
    ['no reply comes in time', silent],
    ['the command cannot be sent', unreachable],
  ])('answers a keyed request 202 with its key, not an order id, when %s', async (_, client) => {
    const answer = await service(client).place(CART, 'checkout-7f3a');
    expect(answer.status).toBe(HttpStatus.ACCEPTED);
    expect(answer.body).toEqual({ state: 'PENDING', idempotencyKey: 'checkout-7f3a', message: expect.stringContaining('Idempotency-Key') });
  });
});

describe('OrdersService.place when an order instance falls silent', () => {
  // One batch in flight: a batch sent to a paused instance would hold the only place until ORDER_WAIT_MS.
  const env = Object.assign(new GatewayEnv(), { ORDER_WAIT_MS: 1500, RPC_TIMEOUT_MS: 100, ORDER_BATCHES_IN_FLIGHT: 1 });
  const placed = ({ orderId, storeId, items }: PlaceOrderCommand): OrderView => {
    const at = new Date().toISOString();
    const lines = items.map((line, i) => ({ ...line, packetIds: [i + 1] }));
    return { orderId, storeId, items: lines, state: OrderState.PLACED, reason: null, agentId: 1, createdAt: at, updatedAt: at };
  };
  // The first batch goes to an instance that never answers; every later one to one that places it.
  let sent = 0;
  const oneSilent = {
    connect: () => Promise.resolve(),
    send: (_: string, { requests }: { requests: PlaceOrderCommand[] }): Observable<BatchProgress<OrderView>> =>
      ++sent === 1 ? NEVER : of({ settled: requests.map((request, index) => ({ index, outcome: { ok: placed(request) } })), waiting: [] }),
  } as unknown as ClientProxy;

  it('sends the commands of requests made side by side as one batch, each answered with its own order', async () => {
    const batches: string[][] = [];
    const placing = {
      connect: () => Promise.resolve(),
      send: (_: string, { requests }: { requests: PlaceOrderCommand[] }): Observable<BatchProgress<OrderView>> => {
        batches.push(requests.map((request) => request.orderId));
        return of({ settled: requests.map((request, index) => ({ index, outcome: { ok: placed(request) } })), waiting: [] });
      },
    } as unknown as ClientProxy;
    const service = new OrdersService(new Partitions(partitionMapOf('', env), env.ORDER_ID_SECRET, () => placing), env);

    const answers = await Promise.all([service.place(CART), service.place(CART)]);

    expect(batches).toHaveLength(1);
    expect(answers.map((answer) => answer.status)).toEqual([HttpStatus.CREATED, HttpStatus.CREATED]);
    expect(answers.map((answer) => answer.body.orderId)).toEqual(batches[0]);
  });

  it('sends the next batch once the silent one has heard nothing for RPC_TIMEOUT_MS, not after ORDER_WAIT_MS', async () => {
    const service = new OrdersService(new Partitions(partitionMapOf('', env), env.ORDER_ID_SECRET, () => oneSilent), env);
    const answered: string[] = [];
    const started = Date.now();

    const silent = service.place(CART).then((answer) => answered.push(`silent ${answer.status}`));
    // A later request, so the two do not leave in one batch.
    await new Promise((resolve) => setImmediate(resolve));
    const next = service.place(CART).then((answer) => answered.push(`next ${answer.status} after ${Date.now() - started} ms`));
    await Promise.all([silent, next]);

    expect(sent).toBe(2);
    expect(answered[0]).toMatch(/^next 201 after \d+ ms$/);
    expect(Number(/after (\d+)/.exec(answered[0])![1])).toBeLessThan(env.ORDER_WAIT_MS);
    // The silent batch's order still waited its full ORDER_WAIT_MS for an outcome: 202, pending.
    expect(answered[1]).toBe('silent 202');
  });
});

describe('OrdersService.lookUp', () => {
  const env = new GatewayEnv();
  const replying = (reply: Observable<unknown>) => ({ connect: () => Promise.resolve(), send: () => reply }) as unknown as ClientProxy;
  const lookUp = (reply: Observable<unknown>, orderId: string) =>
    new OrdersService(new Partitions(partitionMapOf('', env), env.ORDER_ID_SECRET, () => replying(reply)), env).lookUp(orderId);
  const orderId = '019aa9e0-5c1e-7a2b-9c3d-4e5f6a7b8c9d';

  it('answers 202 PENDING, as the POST did, for an order whose request has not reached the order service', async () => {
    const notSeen = throwError(() => ({ code: 'ORDER_PENDING', message: `Order ${orderId} has not reached the order service yet` }));
    expect(await lookUp(notSeen, orderId)).toEqual({
      status: HttpStatus.ACCEPTED,
      body: { orderId, state: 'PENDING', message: `Not started yet; GET /orders/${orderId} shows it once settled` },
    });
  });

  it('answers 200 with the order the order service has, and passes any other refusal on', async () => {
    const view = { orderId, state: OrderState.RESERVING } as OrderView;
    expect(await lookUp(of(view), orderId)).toEqual({ status: HttpStatus.OK, body: view });
    const unknown = throwError(() => ({ code: 'ORDER_NOT_FOUND', message: `Order ${orderId} does not exist` }));
    await expect(lookUp(unknown, orderId)).rejects.toMatchObject({ code: 'ORDER_NOT_FOUND' });
  });
});
