import { BatchReply, ContractError, ErrorCode, Outcome } from '@app/contracts';
import { ClientProxy } from '@nestjs/microservices';
import { Histogram } from 'prom-client';
import { ContractException } from '../transport/contract.exception';
import { currentCorrelation, withCorrelation } from '../observability/correlation';
import { call, RpcCallError } from '../transport/rpc-call';

const batchSize = new Histogram({
  name: 'batch_size',
  help: 'Orders per batch: per message a hop sends (unit="message"), per transaction a service commits (unit="transaction")',
  labelNames: ['hop', 'unit'] as const,
  buckets: [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256],
});

/** Counts a batch of `size` orders at `hop`: one message sent, or one transaction committed. */
export function observeBatch(hop: string, unit: 'message' | 'transaction', size: number): void {
  batchSize.observe({ hop, unit }, size);
}

/**
 * What a send may do before its batch is done, for a service that answers each request as it settles
 * (a stream of replies, see BatchProgress): settle one call now, and free the batch's place among
 * those in flight, so that requests still working (an order waiting for stock) hold up no other.
 */
export interface EarlyReplies<O> {
  settle(index: number, outcome: Outcome<O>): void;
  release(): void;
}

export interface BatcherOptions {
  /** The most requests one batch carries. */
  max: number;
  /** How many batches may be in flight at once; the next one forms while they are. */
  inFlight: number;
}

interface Waiting<I, O> {
  item: I;
  /** The correlation id of the work that made the call, sent with the batch so each request is logged under its own. */
  correlationId?: string;
  resolve: (reply: O) => void;
  reject: (err: unknown) => void;
}

/**
 * Batches that form by themselves, with no timer: a call made while fewer than `inFlight` batches
 * are out leaves in a microtask, with the calls made before that microtask runs (alone, if it is
 * alone); calls made while they are out wait, and leave together as the next batch once one comes
 * back. One client gets batches of one and waits for nothing; many get batches about as large as
 * the calls that arrive during one round trip.
 *
 * Why not at once: the orders of one message, or of one reply, go on side by side, each as many
 * steps in as the other, so each reaches its next call before the microtask queued by the first
 * runs, and they leave together. Sent at once, the first left alone and held the rest up for a
 * round trip (half of all batches were of one, and each hop paid two messages and two transactions
 * where one would do). An order that reaches its call later (one that waited for stock, an abort)
 * leaves with the next batch. A microtask rather than setImmediate: the same batches, and about
 * 1 ms less at 1 client.
 *
 * Each call settles with its own outcome; a batch that fails as a whole (no reply, a rolled-back
 * transaction) fails every call in it with that error, which the callers retry as they would alone.
 */
export class Batcher<I, O> {
  private readonly waiting: Waiting<I, O>[] = [];
  private out = 0;
  private flushing = false;

  constructor(
    private readonly hop: string,
    private readonly send: (items: I[], correlationIds: string[], early: EarlyReplies<O>) => Promise<Outcome<O>[]>,
    private readonly options: BatcherOptions,
  ) {}

  call(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.waiting.push({ item, correlationId: currentCorrelation()?.correlationId, resolve, reject });
      this.flushSoon();
    });
  }

  /** Runs after the continuations already queued, so the calls they make join the batch. */
  private flushSoon(): void {
    if (this.flushing) return;
    this.flushing = true;
    queueMicrotask(() => {
      this.flushing = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.out < this.options.inFlight && this.waiting.length > 0) {
      const batch = this.waiting.splice(0, this.options.max);
      this.out++;
      observeBatch(this.hop, 'message', batch.length);
      const correlationIds = batch.map((waiting) => waiting.correlationId ?? '').filter(Boolean);
      const open = batch.map(() => true);
      let released = false;
      const early: EarlyReplies<O> = {
        settle: (i, outcome) => {
          if (!open[i]) return;
          open[i] = false;
          settle(batch[i], outcome, this.hop);
        },
        release: () => {
          if (released) return;
          released = true;
          this.out--;
          // As after a call: what else is made in this turn leaves with the waiting ones.
          this.flushSoon();
        },
      };
      // A send that throws instead of rejecting fails its batch too (in a microtask, it would
      // otherwise escape as an uncaught exception and keep the batch's place forever).
      sendSafely(
        this.send,
        batch.map((waiting) => waiting.item),
        // Only when every call had one: the ids go by position.
        correlationIds.length === batch.length ? correlationIds : [],
        early,
      )
        .then(
          (outcomes) => batch.forEach((_, i) => early.settle(i, outcomes[i])),
          (err: unknown) =>
            batch.forEach((waiting, i) => {
              if (open[i]) waiting.reject(err);
              open[i] = false;
            }),
        )
        .finally(early.release);
    }
  }
}

function sendSafely<I, O>(
  send: (items: I[], correlationIds: string[], early: EarlyReplies<O>) => Promise<Outcome<O>[]>,
  items: I[],
  correlationIds: string[],
  early: EarlyReplies<O>,
): Promise<Outcome<O>[]> {
  try {
    return send(items, correlationIds, early);
  } catch (err) {
    return Promise.reject(err as Error);
  }
}

function settle<I, O>(waiting: Waiting<I, O>, outcome: Outcome<O> | undefined, hop: string): void {
  if (outcome === undefined)
    waiting.reject(new RpcCallError(ErrorCode.INTERNAL, `${hop}: the batch reply has no outcome for this request`));
  else if ('ok' in outcome) waiting.resolve(outcome.ok);
  else waiting.reject(new RpcCallError(outcome.error.code, outcome.error.message, outcome.error.details));
}

/** The send of a Batcher over RabbitMQ: one message of `pattern` carrying every request, one reply with every outcome. */
export function sendBatch<I, O>(
  client: ClientProxy,
  pattern: string,
  timeoutMs: number,
): (items: I[], correlationIds: string[]) => Promise<Outcome<O>[]> {
  return async (requests, correlationIds) => {
    const message = correlationIds.length > 0 ? { requests, correlationIds } : { requests };
    return (await call<BatchReply<O>>(client, pattern, message, timeoutMs)).outcomes;
  };
}

/**
 * Runs `work` for each request of a batch message under that request's own correlation (its
 * correlation id as sent, and its order), so that every line it logs names its order.
 */
export function forEachRequest<I extends { orderId: string }, T>(
  batch: { requests: I[]; correlationIds?: string[] },
  work: (request: I, index: number) => Promise<T>,
): Promise<T>[] {
  return batch.requests.map((request, i) =>
    withCorrelation({ correlationId: batch.correlationIds?.[i] ?? request.orderId, orderId: request.orderId }, () => work(request, i)),
  );
}

/**
 * One request of a batch, on the service's side: its contract refusal (OUT_OF_STOCK, RESERVATION_LOST, ...)
 * is its own outcome and touches no other request; any other error fails the whole batch, so that
 * its transaction rolls back and is retried, or its callers retry.
 */
export async function outcomeOf<T>(run: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: await run() };
  } catch (err) {
    if (err instanceof ContractException) return { error: err.getError() as ContractError };
    throw err;
  }
}
