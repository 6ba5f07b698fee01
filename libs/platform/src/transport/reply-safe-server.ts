import { RmqContext, RmqOptions, ServerRMQ } from '@nestjs/microservices';
import { ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { AmqpConnectionManager } from 'amqp-connection-manager';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ContractError, deadLetterQueueName, ErrorCode } from '@app/contracts';
import { CORRELATION_HEADER } from '../observability/correlation';
import { rpcMessages } from '../observability/rpc-metrics';
import { InFlightMessages } from './in-flight';
import { EXPIRES_AT_HEADER } from './rpc-call';

/** The longest wait before setting a refused queue up again on a new connection. */
const MAX_RECONNECT_S = 30;

/** How JSON text may start (JSON.parse allows surrounding whitespace). */
const JSON_TEXT = /^\s*(?:[{["\d-]|(?:true|false|null)\s*$)/;

/** False for a text JSON.parse would certainly refuse: such a pattern is routed as it is. */
export function mayBeJson(text: string): boolean {
  return JSON_TEXT.test(text);
}

/**
 * The services' RabbitMQ server, one per queue a service consumes. Seven things differ from Nest's ServerRMQ:
 *
 * Poison messages. A message that is not a request this service can answer (unparsable JSON, no
 * string pattern, a pattern no handler knows or that does not travel on this queue (see
 * QUEUE_PATTERNS), no id, reply-to or correlation id) never reaches a
 * handler: Nest would otherwise run a known pattern without an id as a fire-and-forget event, and
 * change data for a caller that can hear no answer. Such a message is copied to the service's
 * dead-letter queue (`<queue>.dead-letter`, durable, no consumer), with the reason in the
 * `x-rejected-reason` header, and acked once the broker confirmed the copy: it is kept for
 * inspection and never redelivered. The request queue's own arguments stay as they were, so queues
 * declared by an earlier version need no migration. A sender that can hear an answer (an unknown
 * pattern with id and reply-to) also gets UNKNOWN_PATTERN.
 *
 * Requests nobody waits for. A read sent with an expiry (`call(..., { expire: true })`) that
 * reaches the service after its caller gave up is acked and dropped, never run: the broker drops
 * such a request only while it is queued, not once it was handed to this consumer (a consumer that
 * was paused, or slow, finds its prefetched messages already stale).
 *
 * Shutdown: close() first cancels the consumer (the broker stops delivering), then waits up to
 * `drainMs` for the messages already taken to finish (reply sent, acked), then closes the channel.
 * A message still running then is unacked and goes back to the queue for another instance.
 *
 * Replies cannot crash the process. Nest publishes a reply without handling the returned promise,
 * so a reply caught by a broker restart rejects unhandled and Node exits. A lost reply is harmless
 * here: the caller times out and treats the outcome as unknown, and the request, acked only after
 * its handler finished, is idempotent. So it is logged instead.
 *
 * Routing. Nest tries JSON.parse on every pattern, and ours are plain strings: that threw a
 * SyntaxError, stack trace and all, twice per message. A pattern that cannot be JSON is routed as it is.
 *
 * A consumer the broker cancels is set up again. The broker cancels it when the queue is deleted
 * or becomes unavailable (on a cluster, the node holding a classic queue fails); amqplib then hands
 * the consumer null, which Nest ignores: the service ran on, healthy by its own /health, and never
 * consumed again.
 *
 * A setup the broker refuses (a declare or a consume) is tried again on a new connection, after 1,
 * 2, 4 ... up to 30 s. With Nest's, it killed the service (see createClient and setupChannel).
 */
export class ReplySafeServerRMQ extends ServerRMQ {
  private readonly consumerTag: string;
  private readonly deadLetterQueue: string;
  private consuming?: ConfirmChannel;
  /** Set by close(): a consumer cancelled from then on stays cancelled. */
  private closing = false;
  /** The setup consumeAgain() runs after a cancel; close() waits for it, so it cancels what it consumed. */
  private consumingAgain?: Promise<void>;
  /** Setups refused in a row, and the reconnect delay of the connection otherwise (RmqSettings: 1 s). */
  private refusals = 0;
  private reconnectSeconds = 1;
  /** Replies handed to the channel and not yet confirmed by the broker. */
  private readonly replies = new Set<Promise<unknown>>();

  constructor(
    options: RmqOptions['options'],
    /** The patterns this queue carries; a handler of the app for any other is not run from here. */
    private readonly patterns: readonly string[],
    private readonly inFlight: InFlightMessages,
    private readonly drainMs: number,
  ) {
    // setupChannel is this class's own: it declares and consumes one queue, with a prefetch per consumer.
    const unsupported = (['noAssert', 'exchange', 'routingKey', 'wildcards', 'isGlobalPrefetchCount'] as const).filter(
      (option) => options?.[option] !== undefined,
    );
    if (unsupported.length > 0) throw new Error(`ReplySafeServerRMQ does not support ${unsupported.join(', ')}`);
    const consumerTag = `${options?.queue ?? 'queue'}.${process.pid}.${randomUUID()}`;
    super({ ...options, consumerTag });
    this.consumerTag = consumerTag;
    this.deadLetterQueue = deadLetterQueueName(this.queue);
  }

  /**
   * Nest's connection, whose channel reports a failed setup on an `error` event. Nest listens to
   * none, and Node throws an `error` event nobody hears: a declare or consume the broker refused
   * (a queue of another type, for one) killed the service. Now it is logged, and the setup runs
   * again on a new connection.
   */
  override createClient<T>(): T {
    const manager = super.createClient<AmqpConnectionManager>();
    this.reconnectSeconds = manager.reconnectTimeInSeconds;
    const createChannel = manager.createChannel.bind(manager);
    manager.createChannel = (options) => {
      const wrapper = createChannel(options);
      wrapper.on('error', (err: unknown) => this.setupFailed(err));
      return wrapper;
    };
    return manager as T;
  }

  /**
   * Declares the queues and consumes. Unlike Nest's, it waits for the consume: Nest's left a refused
   * consume to reject unheard, which also killed the service.
   */
  override async setupChannel(channel: ConfirmChannel, callback: () => void): Promise<void> {
    // Should this setup be refused, the connection it tears down waits this long to come back.
    const manager = this.manager();
    if (manager) manager.reconnectTimeInSeconds = this.backoffSeconds(this.refusals);
    await channel.assertQueue(this.deadLetterQueue, { durable: true });
    await channel.assertQueue(this.queue, this.queueOptions);
    await channel.prefetch(this.getOptionsProp(this.options, 'prefetchCount', 0));
    const onMessage = (message: ConsumeMessage | null) =>
      void this.handleMessage(message as unknown as Record<string, unknown> | null, channel).catch((err: unknown) =>
        this.logger.error({ err }, `A message on ${this.queue} failed outside its handler`),
      );
    await channel.consume(this.queue, onMessage, {
      noAck: this.noAck,
      consumerTag: this.consumerTag,
    });
    // Only a channel that consumes is one close() must cancel (a failed setup on a stale channel is not).
    this.consuming = channel;
    if (manager) manager.reconnectTimeInSeconds = this.reconnectSeconds;
    if (this.refusals > 0) this.logger.log(`Consuming ${this.queue} after ${this.refusals} refused setup(s)`);
    this.refusals = 0;
    callback();
  }

  /**
   * A refused setup leaves the channel consuming nothing. A refusal is a channel error, which
   * amqplib raises on the raw channel; nobody listens there, so it tears the connection down, and
   * the reconnect sets the channel up again. Whatever else fails a setup leaves the connection up:
   * it is closed here, to the same end. Each refusal in a row doubles the wait before that
   * reconnect (see backoffSeconds), so a refusal that lasts (a queue of another type) costs the
   * broker a connection and the log a line every 30 s, not every second.
   */
  private setupFailed(err: unknown): void {
    if (this.closing) return;
    this.refusals++;
    this.logger.warn(
      `Setting up ${this.queue} failed (${this.refusals} in a row); set up again in ${this.backoffSeconds(this.refusals - 1)} s: ${String(err)}`,
    );
    // amqp-connection-manager connects with amqplib's promise API, whose connections are ChannelModels.
    const connection = this.manager()?.connection as unknown as ChannelModel | undefined;
    if (connection)
      void Promise.resolve()
        .then(() => connection.close())
        .catch(() => undefined);
  }

  /** The wait before a new connection when the setup after `refused` refusals in a row is refused too: 1, 2, 4 ... 30 s. */
  private backoffSeconds(refused: number): number {
    return Math.min(MAX_RECONNECT_S, this.reconnectSeconds * 2 ** refused);
  }

  /** The connection manager Nest's start() made with createClient(); none before start(). */
  private manager(): AmqpConnectionManager | undefined {
    return (this.server as AmqpConnectionManager | null) ?? undefined;
  }

  override async close(): Promise<void> {
    this.closing = true;
    if (this.consumingAgain) await Promise.race([this.consumingAgain, sleep(1000, undefined, { ref: false })]);
    await this.consuming?.cancel(this.consumerTag).catch(() => undefined);
    const inFlight = this.inFlight.size;
    if (inFlight > 0) {
      this.logger.log(`Stopped consuming; finishing ${inFlight} message(s) in flight`);
      const drained = await this.inFlight.drained(this.drainMs);
      if (drained) this.logger.log(`Finished the ${inFlight} message(s) in flight`);
      else this.logger.warn(`${this.inFlight.size} message(s) still running after ${this.drainMs} ms go back to the queue`);
    }
    // Nest publishes a reply on the tick after the handler's ack: let those go out, then wait for
    // the broker to confirm them, so closing the channel does not drop a finished message's reply.
    await new Promise((resolve) => setImmediate(resolve));
    await Promise.race([Promise.all(this.replies), sleep(1000)]);
    await super.close();
  }

  protected override getRouteFromPattern(pattern: string): string {
    return mayBeJson(pattern) ? super.getRouteFromPattern(pattern) : this.normalizePattern(pattern);
  }

  override async handleMessage(delivery: Record<string, unknown> | null, channel: ConfirmChannel): Promise<void> {
    if (!delivery) return this.consumeAgain(channel);
    const message = delivery as unknown as ConsumeMessage;
    const rejection = this.rejection(message);
    if (!rejection) return this.expired(message, channel) ? undefined : super.handleMessage(message, channel);
    const { id, pattern, reason, answer } = rejection;
    const { replyTo, correlationId } = message.properties;
    if (pattern !== undefined && id && replyTo && correlationId) {
      const err: ContractError = { code: ErrorCode.UNKNOWN_PATTERN, message: answer ?? `No handler for pattern ${pattern}` };
      this.sendMessage({ id, err, isDisposed: true }, replyTo, correlationId, new RmqContext([message, channel, pattern]));
    }
    return this.deadLetter(message, channel, reason);
  }

  override sendMessage<T = unknown>(message: T, replyTo: string, correlationId: string, context: RmqContext): void {
    const outgoing = this.serializer.serialize(message as never) as Record<string, unknown>;
    const options = outgoing.options as Record<string, unknown> | undefined;
    delete outgoing.options;
    this.onProcessingEndHook?.(this.transportId, context);
    const sent = this.channel
      ?.sendToQueue(replyTo, Buffer.from(JSON.stringify(outgoing)), { correlationId, ...options })
      .catch((err: Error) => this.logger.warn(`Reply ${correlationId} to ${replyTo} was lost: ${err.message}`));
    if (!sent) return;
    this.replies.add(sent);
    void sent.finally(() => this.replies.delete(sent));
  }

  /**
   * After the broker cancelled the consumer: declares the queue again (it may have been deleted)
   * and consumes it, on the same channel, so the messages in flight still get acked.
   */
  private consumeAgain(channel: ConfirmChannel): Promise<void> {
    if (this.closing) return Promise.resolve();
    this.logger.warn(`The broker cancelled the consumer of ${this.queue}; declaring and consuming it again`);
    this.consumingAgain = this.setupChannel(channel, () => undefined).catch((err: unknown) => this.setupFailed(err));
    return this.consumingAgain;
  }

  /**
   * Acks and drops a request whose caller has stopped waiting (see EXPIRES_AT_HEADER); true if it did.
   * Only reads carry the header: a command is always run.
   */
  private expired(message: ConsumeMessage, channel: ConfirmChannel): boolean {
    const headers = (message.properties.headers ?? {}) as Record<string, unknown>;
    const expiresAt = Number(headers[EXPIRES_AT_HEADER]);
    if (!Number.isFinite(expiresAt) || Date.now() <= expiresAt) return false;
    const { pattern } = JSON.parse(message.content.toString()) as { pattern: string };
    rpcMessages.inc({ pattern, outcome: 'expired' });
    const correlationId = typeof headers[CORRELATION_HEADER] === 'string' ? headers[CORRELATION_HEADER] : undefined;
    this.logger.log({ correlationId, pattern }, `${pattern} dropped: its caller stopped waiting ${Date.now() - expiresAt} ms ago`);
    try {
      channel.ack(message);
    } catch (err) {
      // The channel closed under us: the broker redelivers the message, and it is dropped again.
      this.logger.warn(`Could not ack an expired ${pattern}: ${(err as Error).message}`);
    }
    return true;
  }

  /** Why this message is no request we can answer (with its id and unknown pattern, if any), or undefined. */
  private rejection(message: ConsumeMessage): { reason: string; id?: string; pattern?: string; answer?: string } | undefined {
    let packet: unknown;
    try {
      // Parsed again by ServerRMQ for an accepted message; a request is a few hundred bytes.
      packet = JSON.parse(message.content.toString());
    } catch {
      return { reason: 'the body is not JSON' };
    }
    if (typeof packet !== 'object' || packet === null || Array.isArray(packet)) return { reason: 'the body is not a JSON object' };
    const { id, pattern } = packet as { id?: unknown; pattern?: unknown };
    if (typeof pattern !== 'string') return { reason: 'no string pattern' };
    const knownId = typeof id === 'string' && id.length > 0 ? id : undefined;
    if (!this.getHandlerByPattern(pattern))
      return { reason: `unknown pattern ${JSON.stringify(pattern).slice(0, 200)}`, id: knownId, pattern };
    if (!this.patterns.includes(pattern)) {
      const answer = `Pattern ${pattern} is not served on queue ${this.queue}`;
      return { reason: `pattern ${pattern} does not travel on this queue`, id: knownId, pattern, answer };
    }
    if (!knownId) return { reason: 'no request id: events are not accepted' };
    if (!message.properties.replyTo || !message.properties.correlationId) return { reason: 'no reply-to or correlation id' };
    return undefined;
  }

  private deadLetter(message: ConsumeMessage, channel: ConfirmChannel, reason: string): Promise<void> {
    this.logger.warn(`Rejected a message on ${this.queue} to ${this.deadLetterQueue}: ${reason}`);
    const { contentType, contentEncoding, correlationId, replyTo, messageId, timestamp, type, appId } = message.properties;
    // The sender's headers (its correlation and order ids among them) stay, for whoever inspects it.
    const headers = { ...message.properties.headers, 'x-rejected-reason': reason, 'x-rejected-from': this.queue };
    return new Promise((resolve) => {
      const settle = (err: unknown) => {
        try {
          if (err) {
            // Not kept: dropping it still beats a redelivery loop.
            this.logger.error(`Could not dead-letter a message (${String(err)}); dropped`);
            channel.nack(message, false, false);
          } else {
            channel.ack(message);
          }
        } catch (closed) {
          // The channel closed under us: the broker redelivers the message, and it is rejected again.
          this.logger.warn(`Could not settle a rejected message: ${(closed as Error).message}`);
        }
        resolve();
      };
      try {
        const options = {
          contentType,
          contentEncoding,
          correlationId,
          replyTo,
          messageId,
          timestamp,
          type,
          appId,
          headers,
          persistent: true,
        };
        channel.sendToQueue(this.deadLetterQueue, message.content, options, settle);
      } catch (err) {
        settle(err);
      }
    });
  }
}
