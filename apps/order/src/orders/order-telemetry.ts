import { ErrorCode, NotPlacedReason, outcomeOf, OrderState } from '@app/contracts';
import { RpcCallError } from '@app/platform';
import { Injectable, Logger } from '@nestjs/common';
import { OrderChanges } from './order.entity';
import { orderMetrics } from './order-metrics';

/** When this instance saw an order start, decide and start aborting, for the phase histograms. */
interface Timeline {
  startedAt: number;
  decidedAt?: number;
}

/** Past this many orders in flight here, the oldest timelines are dropped (orders another instance took over). */
const MAX_TIMELINES = 10_000;

/**
 * The coordinator's log lines and metrics, fed by OrderJournal for every state it writes: one line
 * per step of the two-phase commit, each naming the order, so `grep <orderId>` tells its story.
 */
@Injectable()
export class OrderTelemetry {
  private readonly logger = new Logger('Coordinator');
  private readonly timelines = new Map<string, Timeline>();

  /** A new order was recorded in `state`. */
  begun(orderId: string, storeId: number | null, state: OrderState, reason: NotPlacedReason | null): void {
    orderMetrics.transitions.inc({ state });
    if (outcomeOf(state) === 'pending') {
      if (this.timelines.size >= MAX_TIMELINES) this.timelines.delete(this.timelines.keys().next().value!);
      this.timelines.set(orderId, { startedAt: Date.now() });
      this.logger.debug({ orderId, storeId, state }, `${state} in dark store ${storeId}`);
      return;
    }
    countOutcome(state, reason);
    this.logger.log({ orderId, state, reason }, `${state}: ${reason}`);
  }

  /** This instance moved the order from `from` to `to`. */
  moved(orderId: string, from: OrderState, to: OrderState, changes: OrderChanges): void {
    orderMetrics.transitions.inc({ state: to });
    // An outcome is counted once, when the order leaves the states whose outcome is unknown.
    if (outcomeOf(from) === 'pending' && outcomeOf(to) !== 'pending') countOutcome(to, changes.reason ?? null);
    const timeline = this.timelines.get(orderId);
    const now = Date.now();
    const since = (at: number | undefined) => (at === undefined ? undefined : (now - at) / 1000);
    switch (to) {
      case OrderState.COMMITTING:
        observe('reserve', 'decided', since(timeline?.startedAt));
        if (timeline) timeline.decidedAt = now;
        this.logger.log(
          { orderId, state: to, packetIds: changes.items?.flatMap((line) => line.packetIds), agentId: changes.agentId },
          `decided COMMITTING: packets ${changes.items?.flatMap((line) => line.packetIds).join(', ')}, agent ${changes.agentId}`,
        );
        return;
      case OrderState.PLACED:
        observe('commit', to, since(timeline?.decidedAt));
        observe('total', to, since(timeline?.startedAt));
        this.timelines.delete(orderId);
        this.logger.log({ orderId, state: to }, 'PLACED');
        return;
      case OrderState.ABORTING:
        if (from === OrderState.RESERVING) observe('reserve', 'refused', since(timeline?.startedAt));
        if (timeline) timeline.decidedAt = now;
        this.logger.log({ orderId, state: to, reason: changes.reason, from }, `ABORTING: ${changes.reason}`);
        return;
      case OrderState.NOT_PLACED:
        observe('abort', to, since(timeline?.decidedAt));
        observe('total', to, since(timeline?.startedAt));
        this.timelines.delete(orderId);
        this.logger.log({ orderId, state: to }, 'NOT_PLACED: both sides released');
        return;
      default:
        this.logger.log({ orderId, state: to }, to);
    }
  }

  /** Recovery took the order over in `state`. */
  recovering(orderId: string, state: OrderState): void {
    orderMetrics.recoveries.inc({ state });
    this.logger.log({ orderId, state }, `recovering from ${state}`);
  }

  recovered(orderId: string, state: OrderState): void {
    this.logger.log({ orderId, state }, `recovered: now ${state}`);
  }
}

/** A phase-2 call failed transiently and is tried again after a backoff. */
export function noteRetry(err: RpcCallError, attemptNo: number, attempts: number): void {
  orderMetrics.retries.inc({ code: err.code });
  retryLogger.warn({ code: err.code }, `retrying (try ${attemptNo + 1} of ${attempts}): ${err.message}`);
}

const retryLogger = new Logger('Coordinator');

/** A decided order whose assigns went unanswered through every try: it stays COMMITTING, for recovery to assign again. */
export function noteUnanswered(orderId: string, failures: (ErrorCode | undefined)[]): void {
  const codes = failures.filter((code) => code !== undefined).join(', ');
  retryLogger.warn({ orderId, codes }, `assign unanswered (${codes}): the order stays COMMITTING; recovery assigns again`);
}

/** Orders by outcome: PLACED, or NOT_PLACED with its reason. */
function countOutcome(state: OrderState, reason: NotPlacedReason | null): void {
  const outcome = outcomeOf(state) === 'placed' ? OrderState.PLACED : OrderState.NOT_PLACED;
  orderMetrics.outcomes.inc({ outcome, reason: reason ?? '' });
}

function observe(phase: string, outcome: string, seconds: number | undefined): void {
  if (seconds !== undefined) orderMetrics.phases.observe({ phase, outcome }, seconds);
}
