/**
 * The participants' side of the two-phase commit (store and delivery): reservation rows held,
 * assigned and released per order, the branch barrier, and the sweep of expired reservations.
 */
export * from './participant.env';
export * from './branch-barrier';
export * from './hold-rows';
export * from './participant-metrics';
