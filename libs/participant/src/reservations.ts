import { ErrorCode } from '@app/contracts';
import { ContractException, PeriodicTask } from '@app/platform';
import { reservationsExpired } from './participant-metrics';

/*
 * What the store and delivery share of phase 1 and its clean-up. Each participant writes its own
 * statements whole, with their locks, in its service (packets.service.ts, agents.service.ts).
 */

/**
 * Why nothing could be locked. Rows still free or reserved (as committed; some may be locked by
 * reservations in flight, or held by orders still deciding) may come back, so the answer is "ask
 * again" (ALL_RESERVED), not a refusal: refusing then would turn away an order that could be
 * placed (I7). Only when none may come back is `final` the answer.
 */
export function nothingToReserve(noun: string, mayComeBack: boolean, final: ContractException): ContractException {
  return mayComeBack ? new ContractException(ErrorCode.ALL_RESERVED, `Every ${noun} is held by orders still deciding`) : final;
}

/** A reserve took over `count` rows whose reservation had expired (counted; the sweep counts its own). */
export function tookExpired(noun: string, count = 1): void {
  reservationsExpired.inc({ resource: noun, fate: 'taken' }, count);
}

/**
 * The periodic sweep that gives expired reservations back even if no coordinator ever returns
 * (I3). `sweepBatch` frees at most `batch` of them in one short transaction and says how many, so
 * a sweep never locks many rows at once; it runs until a batch comes back short.
 */
export function expirySweeper(
  noun: string,
  intervalMs: number,
  sweepBatch: (batch: number) => Promise<number>,
  batch = 1000,
): PeriodicTask {
  return new PeriodicTask(`${noun} sweeper`, intervalMs, async () => {
    let freed = 0;
    for (let last = batch; last === batch; freed += last) last = await sweepBatch(batch);
    reservationsExpired.inc({ resource: noun, fate: 'swept' }, freed);
    return freed > 0 ? `Swept ${freed} expired ${noun} reservation(s)` : undefined;
  });
}
