import { ErrorCode } from '@app/contracts';
import { ContractException } from '@app/platform';
import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';
import { isDuplicateKey } from './database';
import { Queryable, transaction, Tx } from './transaction';

/**
 * Runs `work` at most once per Idempotency-Key, in one READ COMMITTED transaction with retries, and
 * answers every later request with that key with the reply the first one committed.
 *
 * `table` (one per service, created by its migrations) holds one row per key: the request it came
 * with (as a SHA-256 of `request`) and the reply. The row is inserted first, in the transaction of
 * the work itself, so the key and its effect commit together or not at all:
 * - a retry after the first committed finds the row and gets its reply, and adds nothing;
 * - a retry while the first still runs waits on the row's lock (the unique key), then finds the row
 *   if the first committed, or takes the key over if it rolled back;
 * - a retry of the transaction itself (a dropped connection, even one that hid a commit) is the
 *   same case, which is what makes the retries safe;
 * - the same key with another request is refused with IDEMPOTENCY_KEY_REUSED.
 * A failure (a refusal, a rollback) records nothing: the key stays free for a retry.
 */
export function once<T>(
  dataSource: DataSource,
  table: string,
  idempotencyKey: string,
  request: object,
  work: (tx: Tx) => Promise<T>,
): Promise<T> {
  const requestHash = createHash('sha256').update(JSON.stringify(request)).digest('hex');
  return transaction(dataSource, async (tx) => {
    try {
      await tx.query(`INSERT INTO ${table} (idempotency_key, request_hash) VALUES (?, ?)`, [idempotencyKey, requestHash]);
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      return earlierReply<T>(tx, table, idempotencyKey, requestHash);
    }
    const reply = await work(tx);
    tx.defer(`UPDATE ${table} SET reply = ? WHERE idempotency_key = ?`, [JSON.stringify(reply), idempotencyKey]);
    return reply;
  });
}

/** The reply of the request that took the key (committed: the failed insert waited for it). */
async function earlierReply<T>(manager: Queryable, table: string, idempotencyKey: string, requestHash: string): Promise<T> {
  const [row]: { request_hash: string; reply: string }[] = await manager.query(
    `SELECT request_hash, reply FROM ${table} WHERE idempotency_key = ?`,
    [idempotencyKey],
  );
  if (row.request_hash !== requestHash) {
    throw new ContractException(ErrorCode.IDEMPOTENCY_KEY_REUSED, `Idempotency-Key ${idempotencyKey} was used for another request`);
  }
  return JSON.parse(row.reply) as T;
}
