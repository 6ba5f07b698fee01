import { canMove, NotPlacedReason, OrderState, OrderView, UNSETTLED_STATES } from '@app/contracts';
import { randomUUID } from 'node:crypto';
import { Cart, OrderLease, toView } from '../order-journal.service';
import { Order, OrderChanges } from '../order.entity';

/**
 * OrderJournal in memory, answering exactly what the real one answers: begin() refuses a known id
 * or key; a transition is a compare-and-set on the state and the lease owner, answering the order as
 * it left it, also when the caller's own move is what is logged, and undefined for anyone else;
 * claim() needs a lapsed lease.
 */
export class MemoryJournal {
  readonly orders = new Map<string, Order>();
  readonly history: OrderState[] = [];
  private readonly keys = new Map<string, string>();

  constructor(private readonly leaseMs = 60_000) {}

  async begin(orderId: string, cart: Cart | null, state: OrderState, reason: NotPlacedReason | null = null, key?: string) {
    if (this.orders.has(orderId) || (key && this.keys.has(key))) return undefined;
    if (key) this.keys.set(key, orderId);
    const now = new Date();
    const lease = { orderId, owner: randomUUID() };
    this.orders.set(
      orderId,
      Object.assign(new Order(), {
        id: orderId,
        storeId: cart?.storeId ?? null,
        items: cart?.items.map(({ foodId, quantity }) => ({ foodId, quantity, packetIds: [] })) ?? [],
        state,
        reason,
        agentId: null,
        idempotencyKey: key ?? null,
        leaseUntil: this.leaseFrom(now),
        leaseOwner: lease.owner,
        createdAt: now,
        updatedAt: now,
      }),
    );
    this.history.push(state);
    return lease;
  }

  async transition(lease: OrderLease, from: OrderState, to: OrderState, changes: OrderChanges = {}) {
    if (!canMove(from, to)) throw new Error(`${from} -> ${to} is not a transition`);
    const order = this.orders.get(lease.orderId);
    if (!order || order.leaseOwner !== lease.owner) return undefined;
    if (order.state !== from) return order.state === to ? Object.assign(new Order(), order) : undefined;
    Object.assign(order, withoutUndefined(changes), { state: to, leaseUntil: this.leaseFrom(new Date()), updatedAt: new Date() });
    this.history.push(to);
    return Object.assign(new Order(), order);
  }

  async reopen(orderId: string, from: OrderState, to: OrderState) {
    const order = this.orders.get(orderId);
    if (!order || order.state !== from) return undefined;
    const lease = { orderId, owner: randomUUID() };
    Object.assign(order, { state: to, leaseOwner: lease.owner, leaseUntil: this.leaseFrom(new Date()) });
    this.history.push(to);
    return lease;
  }

  async claim(stale: Order) {
    const order = this.orders.get(stale.id);
    if (!order || order.state !== stale.state || order.leaseUntil.getTime() >= Date.now()) return undefined;
    const lease = { orderId: stale.id, owner: randomUUID() };
    Object.assign(order, { leaseOwner: lease.owner, leaseUntil: this.leaseFrom(new Date()) });
    return lease;
  }

  async stale(limit: number) {
    return [...this.orders.values()]
      .filter((o) => UNSETTLED_STATES.includes(o.state) && o.leaseUntil.getTime() < Date.now())
      .slice(0, limit)
      .map((o) => Object.assign(new Order(), o));
  }

  async find(orderId: string) {
    const order = this.orders.get(orderId);
    return order ? Object.assign(new Order(), order) : null;
  }

  async view(orderId: string): Promise<OrderView | null> {
    const order = this.orders.get(orderId);
    return order ? toView(order) : null;
  }

  /** The order's id made by an idempotency key, for IdempotencyKeys in memory. */
  orderOfKey(key: string): string | undefined {
    return this.keys.get(key);
  }

  /** Lets the lease of an order run out now, as if its driver had stopped. */
  expireLease(orderId: string): void {
    this.orders.get(orderId)!.leaseUntil = new Date(Date.now() - 1);
  }

  private leaseFrom(now: Date): Date {
    return new Date(now.getTime() + this.leaseMs);
  }
}

function withoutUndefined(changes: OrderChanges): OrderChanges {
  return Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined));
}
