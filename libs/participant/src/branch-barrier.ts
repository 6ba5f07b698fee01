import { ErrorCode, orderIdMintedAt } from '@app/contracts';
import { ContractException } from '@app/platform';
import { EntityManager } from 'typeorm';

/**
 * The branch barrier of a participant (as in DTM and Seata TCC): one row per order id, in the same
 * transaction as the reserve or release it guards. Both operations lock the row first, so for one
 * order they never interleave, and a release marks the row so that a reserve arriving after it
 * (the "hanging" reservation of a delayed or duplicated message) is refused. A release with no
 * reserve before it (the "empty rollback") simply leaves the mark. Rows of orders older than
 * RETENTION_MS are pruned (each participant's pruneBarrier); refusePastRetention stands in for them.
 */
export async function enterBarrier(
  manager: EntityManager,
  table: string,
  orderId: string,
): Promise<{ released: boolean; firstVisit: boolean }> {
  // The common case, a first reserve, costs one statement: the insert itself locks the new row.
  const inserted = await manager.query(`INSERT IGNORE INTO ${table} (order_id) VALUES (?)`, [orderId]);
  if (inserted.affectedRows === 1) return { released: false, firstVisit: true };
  // Seen before (a repeat, or a release came first): lock the row as release does, then read it.
  const [row] = await manager.query(`SELECT released FROM ${table} WHERE order_id = ? FOR UPDATE`, [orderId]);
  return { released: Number(row.released) === 1, firstVisit: false };
}

/** Locks and marks the barrier row as released; every later reserve of this order is refused. */
export async function closeBarrier(manager: EntityManager, table: string, orderId: string): Promise<void> {
  await manager.query(`INSERT INTO ${table} (order_id, released) VALUES (?, 1) ON DUPLICATE KEY UPDATE released = 1`, [orderId]);
}

/**
 * Refuses a reserve of an order minted before the retention horizon: its barrier row may have been
 * pruned, so a release of it can no longer be told from none. No driver runs phase 1 that late
 * (the order service checks RETENTION_MS against ORDER_LOST_AFTER_MS + LEASE_MS), so only a late
 * copy of a reserve is refused. Called after enterBarrier, in its transaction: a prune that deleted
 * the row before enterBarrier inserted it again read the clock before this check does, so its
 * horizon is behind this one's and the order is refused here; the throw rolls the insert back.
 */
export function refusePastRetention(orderId: string, retentionMs: number): void {
  const mintedAt = orderIdMintedAt(orderId);
  if (mintedAt !== undefined && mintedAt >= Date.now() - retentionMs) return;
  throw new ContractException(ErrorCode.ORDER_TOO_OLD, `Order ${orderId} is older than RETENTION_MS (${retentionMs} ms); not reserving`);
}
