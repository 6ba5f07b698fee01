import { Queue } from '@app/contracts';
import { ClientProxyFactory, ClientRMQ } from '@nestjs/microservices';
import { EventEmitter } from 'node:events';
import { ResilientClientRMQ, rmqClientOptions } from './rmq-options';

const settings = { url: 'amqp://127.0.0.1:1', queuePrefix: 't_unit_', prefetch: 1 };

/** A client whose connection manager hands out `wrapper` as the channel, as amqp-connection-manager's ChannelWrapper would. */
function withChannel(client: ClientRMQ, wrapper: EventEmitter): void {
  Object.assign(client, { client: { createChannel: () => wrapper } });
}

describe('rmqClientOptions', () => {
  it('makes clients that survive their channel failing to set up (a broker restart during the setup)', () => {
    const client = ClientProxyFactory.create(rmqClientOptions(settings, Queue.STORE));
    expect(client).toBeInstanceOf(ResilientClientRMQ);
    const wrapper = new EventEmitter();
    withChannel(client as ClientRMQ, wrapper);
    void (client as ClientRMQ).createChannel();
    expect(() => wrapper.emit('error', new Error('Channel ended, no reply will be forthcoming'))).not.toThrow();
  });

  it('is needed: Nest’s own client leaves the error unhandled, which kills the process', () => {
    const client = new ClientRMQ(rmqClientOptions(settings, Queue.STORE).options as ConstructorParameters<typeof ClientRMQ>[0]);
    const wrapper = new EventEmitter();
    withChannel(client, wrapper);
    void client.createChannel();
    expect(() => wrapper.emit('error', new Error('Channel ended, no reply will be forthcoming'))).toThrow('Channel ended');
  });
});

describe('ResilientClientRMQ.close', () => {
  it('forgets its connection even when closing the channel fails, so the next connect starts afresh and a shutdown succeeds', async () => {
    const client = ClientProxyFactory.create(rmqClientOptions(settings, Queue.STORE)) as ClientRMQ;
    const connection = { close: jest.fn(() => Promise.resolve()) };
    Object.assign(client, {
      channel: { close: () => Promise.reject(new Error('Connection closed: 320 (CONNECTION-FORCED)')) },
      client: connection,
      isInitialConnect: false,
    });
    await expect(client.close()).resolves.toBeUndefined();
    expect(connection.close).toHaveBeenCalled();
    expect(client).toMatchObject({ channel: null, client: null, isInitialConnect: true });
  });
});
