import { deadLetterQueueName, Queue, queueName } from '@app/contracts';
import { Channel, ChannelModel, ConsumeMessage, Options, connect } from 'amqplib';
import { randomUUID } from 'node:crypto';
import { TestSystem } from './harness';

export type ServiceQueue = (typeof Queue)[keyof typeof Queue];

/**
 * A stray producer talking straight to the services' queues with amqplib, bypassing Nest's client:
 * it can send what no well-behaved client sends (broken JSON, no reply-to, no id) and counts the
 * replies that come back on its own reply queue.
 */
export class RawBroker {
  private readonly replies = new Map<string, unknown>();
  private replyQueue = '';

  private constructor(
    private readonly t: TestSystem,
    private readonly connection: ChannelModel,
    readonly channel: Channel,
  ) {}

  static async open(t: TestSystem): Promise<RawBroker> {
    const connection = await connect(t.rmq.url);
    const broker = new RawBroker(t, connection, await connection.createChannel());
    const { queue } = await broker.channel.assertQueue('', { exclusive: true, autoDelete: true });
    broker.replyQueue = queue;
    await broker.channel.consume(queue, (msg: ConsumeMessage | null) => msg && broker.onReply(msg), { noAck: true });
    return broker;
  }

  queue(service: ServiceQueue): string {
    return queueName(this.t.env.QUEUE_PREFIX, service);
  }

  /** Publishes raw bytes; `reply: true` sets reply-to and a correlation id so an answer can come back. */
  publish(service: ServiceQueue, content: Buffer | string, options: { reply?: boolean } & Options.Publish = {}): string {
    const { reply, ...props } = options;
    const correlationId = reply ? randomUUID() : props.correlationId;
    this.channel.sendToQueue(this.queue(service), Buffer.from(content), {
      ...props,
      ...(reply ? { replyTo: this.replyQueue, correlationId } : {}),
    });
    return correlationId ?? '';
  }

  /** A request as Nest's client frames it: `{ pattern, data, id }` with reply-to and correlation id. */
  request(service: ServiceQueue, pattern: unknown, data: unknown): string {
    const id = randomUUID();
    return this.publish(service, JSON.stringify({ pattern, data, id }), { reply: true, correlationId: id });
  }

  reply(correlationId: string): unknown {
    return this.replies.get(correlationId);
  }

  get replyCount(): number {
    return this.replies.size;
  }

  async waitForReplies(count: number, timeoutMs: number): Promise<void> {
    const giveUpAt = Date.now() + timeoutMs;
    while (this.replies.size < count && Date.now() < giveUpAt) await new Promise((resolve) => setTimeout(resolve, 50));
  }

  /** Messages ready (not yet taken or acked) in a service queue, and in its dead-letter queue. */
  async depth(service: ServiceQueue): Promise<{ ready: number; deadLettered: number }> {
    const name = this.queue(service);
    const [queue, dead] = await Promise.all([this.channel.checkQueue(name), this.channel.checkQueue(deadLetterQueueName(name))]);
    return { ready: queue.messageCount, deadLettered: dead.messageCount };
  }

  /** Takes every message out of a service's dead-letter queue, returning the rejection reasons. */
  async drainDeadLetters(service: ServiceQueue): Promise<string[]> {
    const reasons: string[] = [];
    for (;;) {
      const msg = await this.channel.get(deadLetterQueueName(this.queue(service)), { noAck: true });
      if (!msg) return reasons;
      reasons.push(String(msg.properties.headers?.['x-rejected-reason']));
    }
  }

  async close(): Promise<void> {
    await this.connection.close();
  }

  private onReply(msg: ConsumeMessage): void {
    let body: unknown;
    try {
      body = JSON.parse(msg.content.toString());
    } catch {
      body = msg.content.toString();
    }
    this.replies.set(String(msg.properties.correlationId), body);
  }
}
