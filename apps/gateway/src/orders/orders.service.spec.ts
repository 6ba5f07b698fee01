import { ClientProxy } from '@nestjs/microservices';
import { HttpStatus } from '@nestjs/common';
import { NEVER } from 'rxjs';
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
