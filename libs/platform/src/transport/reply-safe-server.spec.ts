import { DeliveryPattern, OrderPattern, StorePattern } from '@app/contracts';
import { ConfirmChannel } from 'amqplib';
import { InFlightMessages } from './in-flight';
import { mayBeJson, ReplySafeServerRMQ } from './reply-safe-server';

describe('mayBeJson: which patterns the RMQ server hands to JSON.parse', () => {
  it.each(['{"cmd":"store.packet.reserve"}', ' [1]', '"store.packet.reserve"', '-1', '12', ' true ', 'null', 'false\n'])(
    'parses %j, which is JSON',
    (text) => {
      expect(() => JSON.parse(text)).not.toThrow();
      expect(mayBeJson(text)).toBe(true);
    },
  );

  it.each(['store.packet.reserve', 'truex', 'nullable', 'order.place', ''])('routes %j as it is, which JSON.parse refuses', (text) => {
    expect(() => JSON.parse(text)).toThrow(SyntaxError);
    expect(mayBeJson(text)).toBe(false);
  });

  it('routes every contract pattern without parsing it', () => {
    const patterns = [StorePattern, DeliveryPattern, OrderPattern].flatMap((group) => Object.values(group));
    expect(patterns.length).toBeGreaterThan(10);
    for (const pattern of patterns) expect(mayBeJson(pattern)).toBe(false);
  });
});

describe('ReplySafeServerRMQ.setupChannel', () => {
  // A channel as amqplib's ConfirmChannel answers: here the broker refuses the consume (as it does
  // a consumer of a queue in exclusive use, or one whose queue was deleted meanwhile).
  const refusingChannel = () => ({
    assertQueue: jest.fn(async (queue: string) => ({ queue, messageCount: 0, consumerCount: 0 })),
    prefetch: jest.fn(async () => ({})),
    consume: jest.fn(async () => {
      throw new Error('Operation failed: BasicConsume; 403 (ACCESS-REFUSED)');
    }),
  });

  it('fails when the broker refuses the consume, so the failure is heard (Nest left it to reject unheard, which killed the service)', async () => {
    const server = new ReplySafeServerRMQ(
      { urls: ['amqp://127.0.0.1'], queue: 't_order', prefetchCount: 8 },
      [],
      new InFlightMessages(),
      1000,
    );
    const channel = refusingChannel();
    const ready = jest.fn();
    await expect(server.setupChannel(channel as unknown as ConfirmChannel, ready)).rejects.toThrow('ACCESS-REFUSED');
    expect(ready).not.toHaveBeenCalled();
    expect(channel.assertQueue.mock.calls.map(([queue]) => queue)).toEqual(['t_order.dead-letter', 't_order']);
    expect(channel.prefetch).toHaveBeenCalledWith(8);
  });
});
