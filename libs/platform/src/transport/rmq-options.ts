import { ClientRMQ, CustomClientOptions, RmqOptions, Transport } from '@nestjs/microservices';
import { QueueName, queueName } from '@app/contracts';

export type RmqQueueType = 'classic' | 'quorum';

export interface RmqSettings {
  url: string;
  queuePrefix: string;
  prefetch: number;
  /** quorum: replicated over a RabbitMQ cluster's nodes (Raft), so a request survives losing one. */
  queueType?: RmqQueueType;
}

// Client and server must declare each queue with the same options, so both are built here.
function baseOptions(settings: RmqSettings, queue: QueueName) {
  return {
    urls: [settings.url],
    queue: queueName(settings.queuePrefix, queue),
    // Requests survive a broker restart: durable queues, persistent messages.
    queueOptions: settings.queueType === 'quorum' ? { durable: true, arguments: { 'x-queue-type': 'quorum' } } : { durable: true },
    persistent: true,
    socketOptions: {
      // Nagle's algorithm plus delayed acks costs ~40 ms per request-reply round trip.
      connectionOptions: { noDelay: true },
      // After a broker restart, be back within a second rather than the default five.
      reconnectTimeInSeconds: 1,
      heartbeatIntervalInSeconds: 5,
    },
  };
}

/**
 * A service consumes with manual acks (see AckInterceptor): a message is acked only after its
 * handler, and so its database transaction, has finished; a crash before that redelivers it.
 */
export function rmqServerOptions(settings: RmqSettings, queue: QueueName): RmqOptions {
  return {
    transport: Transport.RMQ,
    options: { ...baseOptions(settings, queue), noAck: false, prefetchCount: settings.prefetch },
  };
}

/**
 * Nest's RabbitMQ client, with a listener for its channel's errors. amqp-connection-manager emits
 * `error` on the channel wrapper when setting the channel up fails (the broker went away during the
 * setup) and sets it up again on the next connection; with no listener, Node turns that event into
 * an uncaught exception and the app dies (a chaos run's broker restart killed an order service so).
 */
export class ResilientClientRMQ extends ClientRMQ {
  override createChannel(): Promise<void> {
    const created = super.createChannel();
    // super set this.channel synchronously, in the promise's executor.
    this.channel?.on('error', (err: unknown) =>
      this.logger.warn(`RabbitMQ channel setup failed; set up again on reconnect: ${String(err)}`),
    );
    return created;
  }

  /**
   * Closes whatever is open and forgets it, even when closing fails (a channel a broker restart
   * cut off rejects its close with the old error): the next connect() starts afresh, as a first
   * connection, and an app's shutdown does not fail on it.
   */
  override async close(): Promise<void> {
    const { channel, client } = this;
    this.channel = null;
    this.client = null;
    this.pendingEventListeners = [];
    this.isInitialConnect = true;
    await channel?.close().catch((err: unknown) => this.logger.warn(`Closing a RabbitMQ channel failed: ${String(err)}`));
    await client?.close().catch((err: unknown) => this.logger.warn(`Closing a RabbitMQ connection failed: ${String(err)}`));
  }
}

/** Never set noAck: false here: the client's reply-to consumer relies on auto-ack. */
export function rmqClientOptions(settings: RmqSettings, queue: QueueName): CustomClientOptions {
  // Nest types customClass as a ClientProxy of string statuses; ClientRMQ's are RmqStatus strings.
  return { customClass: ResilientClientRMQ as unknown as CustomClientOptions['customClass'], options: baseOptions(settings, queue) };
}
