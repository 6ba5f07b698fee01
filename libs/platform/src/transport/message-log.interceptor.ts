import { CallHandler, ExecutionContext, Injectable, Logger, NestInterceptor } from '@nestjs/common';
import { RmqContext, RpcException } from '@nestjs/microservices';
import { randomUUID } from 'node:crypto';
import { Observable, tap } from 'rxjs';
import { ErrorCode, isContractError, Outcome } from '@app/contracts';
import { Correlation, CORRELATION_HEADER, ORDER_HEADER, withCorrelation } from '../observability/correlation';
import { rpcMessageSeconds, rpcMessages } from '../observability/rpc-metrics';

/** Reply fields worth a log line: what an operation took, freed or decided. */
const REPLY_FIELDS = ['packetId', 'agentId', 'freed', 'state', 'reason'] as const;

/**
 * Every service's view of one message: takes the correlation from the message headers (or the
 * payload's orderId) so every line logged while handling it, and every message it sends on, carry
 * it; then logs one line per message (per request of a batch) with its outcome, and counts it. A
 * message that went through is a debug line (the hot path logs one line per order and state change,
 * in the coordinator); a refusal or a failure is logged at info. Health probes are not logged.
 */
@Injectable()
export class MessageLogInterceptor implements NestInterceptor {
  private readonly logger = new Logger('Message');

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'rpc') return next.handle();
    const rmq = context.switchToRpc().getContext<RmqContext>();
    const pattern = rmq.getPattern();
    const payload: unknown = context.switchToRpc().getData();
    const correlation = messageCorrelation(rmq, payload);
    const quiet = pattern.endsWith('.health');
    const stopTimer = rpcMessageSeconds.startTimer({ pattern });
    const done = (outcome: string) => {
      stopTimer();
      rpcMessages.inc({ pattern, outcome });
    };
    // next.handle() binds the handler to the async context it is called in, so call it inside. The
    // lines below run outside it, so they name the correlation themselves.
    return withCorrelation(correlation, () => next.handle()).pipe(
      tap({
        next: (reply) => {
          done('ok');
          if (quiet) return;
          const each = batchLines(payload, reply);
          if (!each) return this.logger.debug({ ...correlation, pattern, ...pick(reply) }, `${pattern} ok`);
          // A batch: one line per request, under its own correlation, as if it had come alone.
          for (const { correlation: own, outcome } of each) {
            const line = { ...own, pattern, batch: each.length };
            if ('ok' in outcome) this.logger.debug({ ...line, ...pick(outcome.ok) }, `${pattern} ok`);
            else if (outcome.error.code === ErrorCode.ALL_RESERVED)
              this.logger.debug({ ...line, code: outcome.error.code }, `${pattern} refused: ${outcome.error.code}`);
            else this.logger.log({ ...line, code: outcome.error.code }, `${pattern} refused: ${outcome.error.code}`);
          }
        },
        error: (err: unknown) => {
          const error = err instanceof RpcException ? err.getError() : err;
          const code = isContractError(error) ? error.code : ErrorCode.INTERNAL;
          done(code);
          if (quiet) return;
          // Waiting for reserved rows is routine under contention; every other refusal is worth a line.
          const line = { ...correlation, pattern, code };
          if (code === ErrorCode.ALL_RESERVED) this.logger.debug(line, `${pattern} refused: ${code}`);
          else this.logger.log(line, `${pattern} refused: ${code}`);
        },
      }),
    );
  }
}

/**
 * The correlation of one message: from its headers (set by the sender's correlationHeaders), else
 * from the payload's orderId, else a new id.
 */
export function messageCorrelation(rmq: RmqContext, payload: unknown): Correlation {
  const headers = (rmq.getMessage()?.properties?.headers ?? {}) as Record<string, unknown>;
  const orderId = stringOrUndefined(headers[ORDER_HEADER]) ?? stringOrUndefined((payload as { orderId?: unknown } | undefined)?.orderId);
  const correlationId = stringOrUndefined(headers[CORRELATION_HEADER]) ?? orderId ?? randomUUID();
  return { correlationId, orderId };
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function pick(reply: unknown): Record<string, unknown> {
  if (typeof reply !== 'object' || reply === null || Array.isArray(reply)) return {};
  const source = reply as Record<string, unknown>;
  return Object.fromEntries(
    REPLY_FIELDS.filter((key) => source[key] !== undefined && source[key] !== null).map((key) => [key, source[key]]),
  );
}

/** Each request of a batch message with its outcome and its own correlation; undefined for a message that is not a batch. */
function batchLines(payload: unknown, reply: unknown): { correlation: Correlation; outcome: Outcome<unknown> }[] | undefined {
  const batch = payload as { requests?: unknown; correlationIds?: unknown } | undefined;
  const outcomes = (reply as { outcomes?: unknown } | undefined)?.outcomes;
  if (!Array.isArray(batch?.requests) || !Array.isArray(outcomes)) return undefined;
  const ids = Array.isArray(batch.correlationIds) ? batch.correlationIds : [];
  return (batch.requests as { orderId?: unknown }[]).map((request, i) => {
    const orderId = stringOrUndefined(request?.orderId);
    return {
      correlation: { correlationId: stringOrUndefined(ids[i]) ?? orderId ?? randomUUID(), orderId },
      outcome: outcomes[i] as Outcome<unknown>,
    };
  });
}
