import { RmqContext, ServerRMQ } from '@nestjs/microservices';

/**
 * ServerRMQ whose replies cannot crash the process. Nest publishes a reply without handling the
 * returned promise, so a reply caught by a broker restart rejects unhandled and Node exits. A lost
 * reply is harmless here: the caller times out and treats the outcome as unknown, and the request,
 * acked only after its handler finished, is idempotent. So it is logged instead.
 */
export class ReplySafeServerRMQ extends ServerRMQ {
  override sendMessage<T = unknown>(message: T, replyTo: string, correlationId: string, context: RmqContext): void {
    const outgoing = this.serializer.serialize(message as never) as Record<string, unknown>;
    const options = outgoing.options as Record<string, unknown> | undefined;
    delete outgoing.options;
    this.onProcessingEndHook?.(this.transportId, context);
    this.channel
      ?.sendToQueue(replyTo, Buffer.from(JSON.stringify(outgoing)), { correlationId, ...options })
      .catch((err: Error) => this.logger.warn(`Reply ${correlationId} to ${replyTo} was lost: ${err.message}`));
  }
}
