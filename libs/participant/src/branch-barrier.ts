import { ErrorCode, orderIdMintedAt } from '@app/contracts';
import { ContractException } from '@app/platform';
import type { ResultSetHeader } from 'mysql2';
import type { Tx } from '@app/database';

/*
 * The branch barrier of a participant (as in DTM and Seata TCC): one row per order id, in the same
 * transaction as the reserve or release it guards. Both operations lock the row first, so for one
 * order they never interleave, and a release marks the row so that a reserve arriving after it
 * (the "hanging" reservation of a delayed or duplicated message) is refused. A release with no
 * reserve before it (the "empty rollback") simply leaves the mark. Rows of orders older than
 * RETENTION_MS are pruned (each participant's pruneBarrier); the age check of barrierRefusal stands
 * in for them. A batch enters, leaves and closes the rows of all its orders in one statement each.
 */

/** What an order's barrier row said when a reserve entered it. */
export interface Barrier {
  /** Someone released the order (or completed its delivery): a reserve of it is refused. */
  released: boolean;
  /** No reserve or release of the order came before: it holds nothing here yet. */
  firstVisit: boolean;
}

/**
 * Enters the barrier of every order of a reserve batch, each row locked until the commit. The rows
 * are inserted and locked in order id order, as every batch does, so two batches of the same orders
 * wait for each other instead of crossing.
 */
export async function enterBarriers(tx: Tx, table: string, orderIds: string[]): Promise<Map<string, Barrier>> {
  const sorted = [...new Set(orderIds)].sort();
  // The common case, first reserves, costs this one statement: the insert itself locks the new rows.
  const inserted: ResultSetHeader = await tx.query(`INSERT IGNORE INTO ${table} (order_id) VALUES ?`, [sorted.map((orderId) => [orderId])]);
  if (inserted.affectedRows === sorted.length) return new Map(sorted.map((orderId) => [orderId, { released: false, firstVisit: true }]));
  // Some were seen before (a repeat, or a release came first): lock every row as release does, then
  // read them. The insert does not say which rows it added (MySQL has no INSERT ... RETURNING), so
  // the unreleased ones all count as seen before: that costs a look for rows they hold, no more.
  const rows: { order_id: string; released: number }[] = await tx.query(
    `SELECT order_id, released FROM ${table} FORCE INDEX (PRIMARY) WHERE order_id IN (?) FOR UPDATE`,
    [sorted],
  );
  // A row gone meanwhile was pruned: its order is past retention, which barrierRefusals refuses.
  const barriers = new Map<string, Barrier>(sorted.map((orderId) => [orderId, { released: false, firstVisit: false }]));
  for (const row of rows) barriers.set(row.order_id, { released: Number(row.released) === 1, firstVisit: false });
  return barriers;
}

/**
 * Takes back the barrier rows of orders a reserve batch refused (too old, out of stock, ...), while
 * they are locked, unless a release marked them: a refused reserve leaves no trace, as when it ran
 * alone and its transaction rolled back. An unreleased row of an order that holds nothing means no
 * more than no row at all, so this is safe for a row an earlier reserve inserted too.
 */
export function leaveBarriers(tx: Tx, table: string, orderIds: string[]): void {
  if (orderIds.length > 0) tx.defer(`DELETE FROM ${table} WHERE order_id IN (?) AND released = 0`, [orderIds]);
}

/**
 * Locks and marks the barrier rows of the orders as released, in order id order; every later
 * reserve of them is refused. Deferred: it runs with the transaction's next statement.
 */
export function closeBarriers(tx: Tx, table: string, orderIds: string[]): void {
  const sorted = [...new Set(orderIds)].sort();
  tx.defer(`INSERT INTO ${table} (order_id, released) VALUES ? ON DUPLICATE KEY UPDATE released = 1`, [
    sorted.map((orderId) => [orderId, 1]),
  ]);
}

/**
 * Why reserves of the orders are refused at their barriers, for those that are. ORDER_TOO_OLD for an order minted
 * before the retention horizon: its barrier row may have been pruned, so a release of it can no
 * longer be told from none. No driver runs phase 1 that late (the order service checks RETENTION_MS
 * against ORDER_LOST_AFTER_MS + LEASE_MS), so only a late copy of a reserve is refused. Asked after
 * enterBarriers, in its transaction: a prune that deleted the row before enterBarriers inserted it
 * again read the clock before this check does, so its horizon is behind this one's and the order is
 * refused here (and leaveBarriers takes the insert back). ORDER_RELEASED once a release marked it.
 */
export function barrierRefusals(barriers: Map<string, Barrier>, retentionMs: number): Map<string, ContractException> {
  const refusals = new Map<string, ContractException>();
  for (const [orderId, barrier] of barriers) {
    const refusal = barrierRefusal(orderId, barrier, retentionMs);
    if (refusal) refusals.set(orderId, refusal);
  }
  return refusals;
}

function barrierRefusal(orderId: string, barrier: Barrier, retentionMs: number): ContractException | undefined {
  const mintedAt = orderIdMintedAt(orderId);
  if (mintedAt === undefined || mintedAt < Date.now() - retentionMs) {
    return new ContractException(ErrorCode.ORDER_TOO_OLD, `Order ${orderId} is older than RETENTION_MS (${retentionMs} ms); not reserving`);
  }
  if (barrier.released) return new ContractException(ErrorCode.ORDER_RELEASED, `Order ${orderId} was already released; not reserving`);
  return undefined;
}
