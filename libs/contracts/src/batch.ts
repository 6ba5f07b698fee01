import { ContractError } from './errors';

/**
 * Group commit: a hop that has a call in flight collects what arrives meanwhile and sends it as one
 * message, which its service runs in one transaction. The message carries up to MAX_BATCH requests,
 * and its reply one outcome per request, in the same order: each request's outcome is its own (one
 * order short of stock never fails another of its batch).
 */
export const MAX_BATCH = 256;

/** One request's outcome inside a batch: the reply it would have had alone, or the error. */
export type Outcome<T> = { ok: T } | { error: ContractError };

/** The reply to a batch message: `outcomes[i]` answers `requests[i]`. */
export interface BatchReply<T> {
  outcomes: Outcome<T>[];
}

/**
 * One of the replies to a batch whose requests may take long, each on its own (order.place-batch:
 * an order waits for stock on its way back for up to CONTENTION_WAIT_MS). The service answers as
 * requests settle, so one slow request holds up no other of its batch: each reply carries the
 * outcomes settled since the one before (`index` is the request's position) and the positions that
 * have since begun to wait. Every request gets exactly one outcome; the last reply ends the stream.
 */
export interface BatchProgress<T> {
  settled: { index: number; outcome: Outcome<T> }[];
  waiting: number[];
}
