import { orderIdFloor } from '@app/contracts';
import { PeriodicTask } from '@app/platform';
import { setTimeout as sleep } from 'node:timers/promises';
import { Counter } from 'prom-client';
import { DatabaseEnv } from './database.env';

const rowsPruned = new Counter({
  name: 'rows_pruned_total',
  help: 'Rows deleted by retention (orders older than RETENTION_MS), by table',
  labelNames: ['table'] as const,
});

/**
 * Deletes `table`'s rows of orders older than RETENTION_MS, every PRUNE_INTERVAL_MS.
 * `pruneBatch(floor, batch)` deletes at most `batch` rows whose order id is below `floor` (ids are
 * UUIDv7, so that is a range of the primary key or of an index led by the order id: no other index,
 * and the oldest rows first) in one short statement, and says how many. A run goes on, pausing
 * PRUNE_PAUSE_MS between statements, until a batch comes back short or the service stops. The hot
 * path only writes rows of orders minted moments ago, at the other end of that range, so the two
 * never wait for each other's locks.
 */
export function pruner(table: string, env: DatabaseEnv, pruneBatch: (floor: string, batch: number) => Promise<number>): PeriodicTask {
  return new PeriodicTask(`${table} retention`, env.PRUNE_INTERVAL_MS, async (stopping) => {
    const horizon = Date.now() - env.RETENTION_MS;
    const floor = orderIdFloor(horizon);
    let pruned = 0;
    let batches = 0;
    while (!stopping.aborted) {
      const deleted = await pruneBatch(floor, env.PRUNE_BATCH);
      pruned += deleted;
      batches += 1;
      rowsPruned.inc({ table }, deleted);
      if (deleted < env.PRUNE_BATCH) break;
      await sleep(env.PRUNE_PAUSE_MS, undefined, { signal: stopping }).catch(() => undefined);
    }
    return pruned > 0
      ? `Pruned ${pruned} ${table} row(s) of orders minted before ${new Date(horizon).toISOString()}, in ${batches} batch(es)`
      : undefined;
  });
}
