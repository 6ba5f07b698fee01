import { RmqContext, RmqOptions, ServerRMQ } from '@nestjs/microservices';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { InFlightMessages } from './in-flight';

type Channel = Parameters<ServerRMQ['setupChannel']>[0];

/**
 * ServerRMQ whose replies cannot crash the process, and which stops gracefully.
 *
 * Replies: Nest publishes a reply without handling the returned promise, so a reply caught by a
 * broker restart rejects unhandled and Node exits. A lost reply is harmless here: the caller times
 * out and treats the outcome as unknown, and the request, acked only after its handler finished,
 * is idempotent. So it is logged instead.
 *
 * Shutdown: close() first cancels the consumer (the broker stops delivering), then waits up to
 * `drainMs` for the messages already taken to finish (reply sent, acked), then closes the channel.
 * A message still running then is unacked and goes back to the queue for another instance.
 */
export class ReplySafeServerRMQ extends ServerRMQ {
  private readonly consumerTag: string;
  private consuming?: Channel;
  /** Replies handed to the channel and not yet confirmed by the broker. */
  private readonly replies = new Set<Promise<unknown>>();

  constructor(
    options: RmqOptions['options'],
    private readonly inFlight: InFlightMessages,
    private readonly drainMs: number,
  ) {
    const consumerTag = `${options?.queue ?? 'queue'}.${process.pid}.${randomUUID()}`;
    super({ ...options, consumerTag });
    this.consumerTag = consumerTag;
  }

  override async setupChannel(channel: Channel, callback: Function): Promise<void> {
    this.consuming = channel;
    await super.setupChannel(channel, callback);
  }

  override async close(): Promise<void> {
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
}
