/**
 * The coordinator's log states. docs/protocol.md draws the machine; ORDER_STATES below is the one
 * table of it that the coordinator, its telemetry, the live page and the gateway all read.
 */
export enum OrderState {
  RESERVING = 'RESERVING',
  COMMITTING = 'COMMITTING',
  PLACED = 'PLACED',
  ABORTING = 'ABORTING',
  NOT_PLACED = 'NOT_PLACED',
  DELIVERING = 'DELIVERING',
  DELIVERED = 'DELIVERED',
}

/** What a client may be told of an order in a state: placed, not placed, or not known yet. */
export type OrderOutcome = 'placed' | 'not-placed' | 'pending';

export interface OrderStateRule {
  /** The states an order may move to from this one; every transition is written before the action it allows. */
  next: readonly OrderState[];
  outcome: OrderOutcome;
  /** Nothing is left to do: recovery never needs to drive the order on. */
  settled: boolean;
}

/**
 * Phase 1 (RESERVING) ends in a decision: COMMITTING, or ABORTING when a participant refused. A
 * COMMITTING order is placed once both sides assigned, or aborted if a reservation was lost.
 * ABORTING is already an outcome: the order can only end NOT_PLACED, once both sides released.
 * An order recorded from the start as NOT_PLACED (a late or lost command) skips the phases.
 */
export const ORDER_STATES: Readonly<Record<OrderState, OrderStateRule>> = {
  [OrderState.RESERVING]: { next: [OrderState.COMMITTING, OrderState.ABORTING], outcome: 'pending', settled: false },
  [OrderState.COMMITTING]: { next: [OrderState.PLACED, OrderState.ABORTING], outcome: 'pending', settled: false },
  [OrderState.PLACED]: { next: [OrderState.DELIVERING], outcome: 'placed', settled: true },
  [OrderState.ABORTING]: { next: [OrderState.NOT_PLACED], outcome: 'not-placed', settled: false },
  [OrderState.NOT_PLACED]: { next: [], outcome: 'not-placed', settled: true },
  [OrderState.DELIVERING]: { next: [OrderState.DELIVERED], outcome: 'placed', settled: false },
  [OrderState.DELIVERED]: { next: [], outcome: 'placed', settled: true },
};

/** The outcome a client may be told of an order in `state`. */
export function outcomeOf(state: OrderState): OrderOutcome {
  return ORDER_STATES[state].outcome;
}

/** States recovery must drive on when their driver stops. */
export const UNSETTLED_STATES: readonly OrderState[] = Object.values(OrderState).filter((state) => !ORDER_STATES[state].settled);

/** States recovery never drives on (ORDER_STATES' settled): retention prunes only these orders' log rows. */
export const SETTLED_STATES: readonly OrderState[] = Object.values(OrderState).filter((state) => ORDER_STATES[state].settled);

/** The states an order in `state` may still be in later: itself and every state its transitions lead to. */
export function reachableFrom(state: OrderState): OrderState[] {
  const seen = new Set<OrderState>([state]);
  for (const at of seen) for (const next of ORDER_STATES[at].next) seen.add(next);
  return [...seen];
}

/** Whether the machine allows `from` -> `to`. */
export function canMove(from: OrderState, to: OrderState): boolean {
  return ORDER_STATES[from].next.includes(to);
}

/** Why an order ended NOT_PLACED. */
export enum NotPlacedReason {
  /** The order named a dark store that does not exist. */
  STORE_NOT_FOUND = 'STORE_NOT_FOUND',
  UNKNOWN_FOOD = 'UNKNOWN_FOOD',
  OUT_OF_STOCK = 'OUT_OF_STOCK',
  NO_AGENT = 'NO_AGENT',
  /** A participant could not be reached (or a call's outcome stayed unknown) before the order could be placed. */
  SERVICE_UNAVAILABLE = 'SERVICE_UNAVAILABLE',
  /** A reservation expired and was taken or swept before it could be assigned. */
  RESERVATION_EXPIRED = 'RESERVATION_EXPIRED',
  /**
   * The request reached the coordinator after the gateway had stopped waiting for it, or a reserve
   * of it reached a participant after the retention horizon (ORDER_TOO_OLD).
   */
  REQUEST_EXPIRED = 'REQUEST_EXPIRED',
  /** The command never reached the coordinator (lost with a broker crash); recorded when the order is looked up. */
  REQUEST_LOST = 'REQUEST_LOST',
  /** The coordinator that started the order stopped before deciding; recovery aborted it. */
  COORDINATOR_RECOVERY = 'COORDINATOR_RECOVERY',
}
