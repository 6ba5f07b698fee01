import { RmqOptions, Transport } from '@nestjs/microservices';
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

/** Never set noAck: false here: the client's reply-to consumer relies on auto-ack. */
export function rmqClientOptions(settings: RmqSettings, queue: QueueName): RmqOptions {
  return { transport: Transport.RMQ, options: baseOptions(settings, queue) };
}
