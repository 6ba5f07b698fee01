import { orderIdFloor } from '@app/contracts';
import { DatabaseEnv } from './database.env';
import { pruner } from './retention';

describe('pruner', () => {
  const env = Object.assign(new DatabaseEnv(), { RETENTION_MS: 60_000, PRUNE_BATCH: 3, PRUNE_PAUSE_MS: 10, PRUNE_INTERVAL_MS: 60_000 });

  it('deletes in batches of PRUNE_BATCH below the floor of RETENTION_MS ago, pausing between them, until one comes back short', async () => {
    const rows = [3, 3, 1];
    const calls: { floor: string; batch: number; at: number }[] = [];
    const before = Date.now();
    const task = pruner('t_barrier', env, (floor, batch) => {
      calls.push({ floor, batch, at: Date.now() });
      return Promise.resolve(rows.shift() ?? 0);
    });

    await task.runOnce();

    expect(calls.map((c) => c.batch)).toEqual([3, 3, 3]);
    expect(new Set(calls.map((c) => c.floor)).size).toBe(1);
    expect(calls[0].floor >= orderIdFloor(before - 60_000) && calls[0].floor <= orderIdFloor(Date.now() - 60_000)).toBe(true);
    for (let i = 1; i < calls.length; i++) expect(calls[i].at - calls[i - 1].at).toBeGreaterThanOrEqual(9);
  });

  it('stops a long run at its next batch when the service stops', async () => {
    let calls = 0;
    const task = pruner('t_barrier', env, () => {
      calls += 1;
      if (calls === 2) void task.stop();
      return Promise.resolve(3);
    });

    await task.runOnce();

    expect(calls).toBe(2);
  });
});
