import { CallHandler, ExecutionContext, Injectable, Logger, NestInterceptor } from '@nestjs/common';
import { RmqContext } from '@nestjs/microservices';
import { Observable, finalize } from 'rxjs';
import { InFlightMessages } from './in-flight';

/**
 * Acks a request once its handler has finished, successfully or not: the database transaction has
 * committed or rolled back by then. A process that dies earlier leaves the message unacked, and
 * RabbitMQ redelivers it to another consumer; handlers are idempotent by order id for that reason.
 * It also counts the messages between taking and acking, which shutdown waits for.
 */
@Injectable()
export class AckInterceptor implements NestInterceptor {
  private readonly logger = new Logger('AckInterceptor');

  constructor(private readonly inFlight = new InFlightMessages()) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'rpc') return next.handle();
    const rmq = context.switchToRpc().getContext<RmqContext>();
    this.inFlight.started();
    return next.handle().pipe(
      finalize(() => {
        try {
          rmq.getChannelRef().ack(rmq.getMessage());
        } catch (err) {
          // The channel closed under us (broker restart): the broker redelivers the message itself.
          this.logger.warn(`Could not ack ${rmq.getPattern()}: ${(err as Error).message}`);
        }
        this.inFlight.finished();
      }),
    );
  }
}
