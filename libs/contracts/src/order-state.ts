/**
 * The coordinator's log states. Every transition is written before the action it allows:
 * RESERVING -> COMMITTING (decision: commit) -> PLACED, or RESERVING/COMMITTING -> ABORTING -> NOT_PLACED.
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

/** States no recovery ever needs to move on from. */
export const SETTLED_STATES: readonly OrderState[] = [OrderState.PLACED, OrderState.NOT_PLACED, OrderState.DELIVERED];

/** States of an order that was placed: a look-up later may find it delivered since. */
export const PLACED_STATES: readonly OrderState[] = [OrderState.PLACED, OrderState.DELIVERING, OrderState.DELIVERED];

/** Why an order ended NOT_PLACED. */
export enum NotPlacedReason {
  UNKNOWN_FOOD = 'UNKNOWN_FOOD',
  OUT_OF_STOCK = 'OUT_OF_STOCK',
  NO_AGENT = 'NO_AGENT',
  /** A participant could not be reached (or a call's outcome stayed unknown) before the order could be placed. */
  SERVICE_UNAVAILABLE = 'SERVICE_UNAVAILABLE',
  /** A reservation expired and was taken or swept before it could be assigned. */
  RESERVATION_EXPIRED = 'RESERVATION_EXPIRED',
  /** The request reached the coordinator after the gateway had stopped waiting for it. */
  REQUEST_EXPIRED = 'REQUEST_EXPIRED',
  /** The command never reached the coordinator (lost with a broker crash); recorded when the order is looked up. */
  REQUEST_LOST = 'REQUEST_LOST',
  /** The coordinator that started the order stopped before deciding; recovery aborted it. */
  COORDINATOR_RECOVERY = 'COORDINATOR_RECOVERY',
}
