import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/** What ties log lines of one piece of work together across the four apps. */
export interface Correlation {
  /** From the client's `x-correlation-id` header, or minted by the gateway. */
  correlationId: string;
  /** The order the work is about, once known: `grep <orderId>` then finds every line of it. */
  orderId?: string;
}

/** HTTP header and RabbitMQ message header names. */
export const CORRELATION_HEADER = 'x-correlation-id';
export const ORDER_HEADER = 'x-order-id';

const storage = new AsyncLocalStorage<Correlation>();

/** The correlation of the work running now, if any. */
export function currentCorrelation(): Correlation | undefined {
  return storage.getStore();
}

/** Runs `work` with `correlation` visible to every log line and every outgoing message it causes. */
export function withCorrelation<T>(correlation: Correlation, work: () => T): T {
  return storage.run(correlation, work);
}

/** Names the order the current work is about (the gateway learns it when it mints the id). */
export function setCorrelatedOrder(orderId: string): void {
  const current = storage.getStore();
  if (current) current.orderId = orderId;
}

/** The message headers that carry the current correlation to the next service. */
export function correlationHeaders(): Record<string, string> | undefined {
  const current = storage.getStore();
  if (!current) return undefined;
  return current.orderId
    ? { [CORRELATION_HEADER]: current.correlationId, [ORDER_HEADER]: current.orderId }
    : { [CORRELATION_HEADER]: current.correlationId };
}

/** A client-given id if it is sane (bounded, printable), otherwise a fresh one. */
export function correlationIdFrom(given: unknown): string {
  return typeof given === 'string' && /^[\w.:-]{1,100}$/.test(given) ? given : randomUUID();
}
