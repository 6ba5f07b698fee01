/**
 * The participants' side of the two-phase commit (store and delivery): the branch barrier that
 * orders reserve and release of one order, what phase 1 answers when nothing is free, and the sweep
 * of expired reservations. The statements themselves live whole in each participant.
 */
export * from './participant.env';
export * from './branch-barrier';
export * from './reservations';
export * from './participant-metrics';
export * from './batches';
