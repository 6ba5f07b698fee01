import { Counter, Histogram } from 'prom-client';

/** The coordinator's metrics, all in one place. */
export const orderMetrics = {
  /** Decided orders: PLACED, or NOT_PLACED with its reason (counted when the abort is decided). */
  outcomes: new Counter({
    name: 'orders_total',
    help: 'Orders decided by this instance, by outcome (PLACED, NOT_PLACED) and reason',
    labelNames: ['outcome', 'reason'] as const,
  }),
  transitions: new Counter({
    name: 'order_transitions_total',
    help: 'State changes this instance wrote to the order log, by the state entered',
    labelNames: ['state'] as const,
  }),
  phases: new Histogram({
    name: 'order_phase_duration_seconds',
    help: 'Time spent per phase of the two-phase commit: reserve (RESERVING to a decision), commit (COMMITTING to PLACED), abort (ABORTING to NOT_PLACED), total (start to PLACED or NOT_PLACED)',
    labelNames: ['phase', 'outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  }),
  retries: new Counter({
    name: 'order_call_retries_total',
    help: 'Phase-2 calls (assign, release, complete) tried again after a transient failure, by error code',
    labelNames: ['code'] as const,
  }),
  recoveries: new Counter({
    name: 'orders_recovered_total',
    help: 'Orders taken over by recovery after their driver stopped, by the state they were found in',
    labelNames: ['state'] as const,
  }),
};
