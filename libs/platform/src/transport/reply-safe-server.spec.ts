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

describe('ReplySafeServerRMQ: setting up its queue', () => {
  const options = { urls: ['amqp://127.0.0.1'], queue: 't_order', prefetchCount: 8 };
  const newServer = () => new ReplySafeServerRMQ(options, [], new InFlightMessages(), 1000);

  // A channel as amqplib's ConfirmChannel answers, and the connection manager Nest's start() keeps
  // (its reconnect delay and current connection).
  const channelThat = (refuses: 'nothing' | 'declare' | 'consume') => ({
    assertQueue: jest.fn(async (queue: string) => {
      if (refuses === 'declare') throw new Error('Operation failed: QueueDeclare; 406 (PRECONDITION-FAILED)');
      return { queue, messageCount: 0, consumerCount: 0 };
    }),
    prefetch: jest.fn(async () => ({})),
    consume: jest.fn(async (queue: string, onMessage: unknown, { consumerTag }: { consumerTag: string }) => {
      if (refuses === 'consume') throw new Error('Operation failed: BasicConsume; 403 (ACCESS-REFUSED)');
      return { consumerTag };
    }),
    cancel: jest.fn(async () => ({})),
  });
  const withManager = (server: ReplySafeServerRMQ) => {
    const manager = { reconnectTimeInSeconds: 1, connection: { close: jest.fn(async () => undefined) } };
    Object.assign(server, { server: manager });
    return manager;
  };
  const asChannel = (channel: ReturnType<typeof channelThat>) => channel as unknown as ConfirmChannel;

  it('fails when the broker refuses the consume, so the failure is heard (Nest left it to reject unheard, which killed the service)', async () => {
    const channel = channelThat('consume');
    const ready = jest.fn();
    await expect(newServer().setupChannel(asChannel(channel), ready)).rejects.toThrow('ACCESS-REFUSED');
    expect(ready).not.toHaveBeenCalled();
    expect(channel.assertQueue.mock.calls.map(([queue]) => queue)).toEqual(['t_order.dead-letter', 't_order']);
    expect(channel.prefetch).toHaveBeenCalledWith(8);
  });

  it('declares and consumes its queue again, on the same channel and tag, when the broker cancels its consumer', async () => {
    const server = newServer();
    withManager(server);
    const channel = channelThat('nothing');
    await server.setupChannel(asChannel(channel), () => undefined);
    await server.handleMessage(null, asChannel(channel));
    expect(channel.assertQueue.mock.calls.map(([queue]) => queue)).toEqual([
      't_order.dead-letter',
      't_order',
      't_order.dead-letter',
      't_order',
    ]);
    const tags = channel.consume.mock.calls.map(([queue, , { consumerTag }]) => `${queue} ${consumerTag}`);
    expect(tags).toHaveLength(2);
    expect(tags[1]).toBe(tags[0]);
  });

  it('after a refused setup, closes the connection for a new one, waiting twice as long after each refusal in a row, up to 30 s', async () => {
    const server = newServer();
    const manager = withManager(server);
    const refusing = channelThat('declare');
    const waits: number[] = [];
    for (let refusal = 0; refusal < 7; refusal++) {
      await server.handleMessage(null, asChannel(refusing));
      waits.push(manager.reconnectTimeInSeconds);
    }
    expect(waits).toEqual([1, 2, 4, 8, 16, 30, 30]);
    expect(manager.connection.close).toHaveBeenCalledTimes(7);
    // A setup that succeeds brings the delay back, for the next broker restart.
    await server.setupChannel(asChannel(channelThat('nothing')), () => undefined);
    expect(manager.reconnectTimeInSeconds).toBe(1);
  });

  it('does not consume again once closing', async () => {
    const server = newServer();
    const manager = Object.assign(withManager(server), { close: jest.fn(async () => undefined) });
    const channel = channelThat('nothing');
    await server.setupChannel(asChannel(channel), () => undefined);
    await server.close();
    await server.handleMessage(null, asChannel(channel));
    expect(channel.consume).toHaveBeenCalledTimes(1);
    expect(channel.cancel).toHaveBeenCalledTimes(1);
    expect(manager.close).toHaveBeenCalled();
  });

  it('refuses the options of Nest it does not implement', () => {
    expect(() => new ReplySafeServerRMQ({ ...options, wildcards: true }, [], new InFlightMessages(), 1000)).toThrow(
      'ReplySafeServerRMQ does not support wildcards',
    );
  });
});
