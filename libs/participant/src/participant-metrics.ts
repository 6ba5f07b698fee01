import { Counter } from 'prom-client';

/** Reservations that outlived their TTL: freed by the sweep, or taken over by a new order's reserve. */
export const reservationsExpired = new Counter({
  name: 'reservations_expired_total',
  help: 'Reservations past their TTL, by resource (packet, agent) and fate (swept back to free, or taken by another order)',
  labelNames: ['resource', 'fate'] as const,
});
