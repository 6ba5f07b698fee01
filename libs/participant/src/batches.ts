import { Outcome } from '@app/contracts';
import { transaction, Tx } from '@app/database';
import { ContractException, observeBatch } from '@app/platform';
import { DataSource } from 'typeorm';

/*
 * Group commit at a participant: a batch message of reserves, assigns or releases runs in one
 * transaction, retried whole after a deadlock or a dropped connection, and answers one outcome per
 * request. The single-request messages run the same code as a batch of one.
 */

/** Runs `requests` in one transaction with `work`, and counts the batch at `hop` once it committed. */
export async function commitBatch<R, T>(
  dataSource: DataSource,
  hop: string,
  requests: R[],
  work: (tx: Tx, requests: R[]) => Promise<Outcome<T>[]>,
): Promise<Outcome<T>[]> {
  const outcomes = await transaction(dataSource, (tx) => work(tx, requests));
  observeBatch(hop, 'transaction', requests.length);
  return outcomes;
}

/** Runs one request alone with `work` (in one transaction): its reply, or its refusal thrown, as a single handler answers. */
export async function commitOne<R, T>(
  dataSource: DataSource,
  request: R,
  work: (tx: Tx, requests: R[]) => Promise<Outcome<T>[]>,
): Promise<T> {
  const [outcome] = await transaction(dataSource, (tx) => work(tx, [request]));
  if ('error' in outcome) throw new ContractException(outcome.error.code, outcome.error.message, outcome.error.details);
  return outcome.ok;
}

/** Each order of a batch once, as its first request asks, in request order (a later copy answers as a repeat would). */
export function firstOfEach<R extends { orderId: string }>(requests: R[]): R[] {
  const first = new Map<string, R>();
  for (const request of requests) if (!first.has(request.orderId)) first.set(request.orderId, request);
  return [...first.values()];
}
