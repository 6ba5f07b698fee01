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
