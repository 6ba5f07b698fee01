import {
  ErrorCode,
  isMintedOrderId,
  NotPlacedReason,
  orderIdMintedAt,
  ORDER_STATES,
  outcomeOf,
  OrderState,
  OrderView,
  PlaceOrderCommand,
  CartLine,
  HeldLine,
  OrderLine,
  Shortage,
} from '@app/contracts';
import { ContractException, RpcCallError } from '@app/platform';
import { Injectable } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { OrderEnv } from '../config/order.env';
import { FaultPoints } from './fault-points';
import { IdempotencyKeys } from './idempotency-keys.service';
import { Cart, OrderJournal, OrderLease, toView } from './order-journal.service';
import { Order } from './order.entity';
import { noteRetry, noteUnanswered } from './order-telemetry';
import { Participants } from './participants';

/**
 * What one reserve call came to: rows held for the order, rows all held by orders still deciding
 * (with the foods short of packets now, for a cart), or a refusal (with the foods out of stock).
 */
type Reserve<T> = { held: T } | { contended: true; shortages?: Shortage[] } | { refused: NotPlacedReason; shortages?: Shortage[] };
/** Not asked yet, or given back to wait for the other side. */
const NOT_HELD = { contended: true } as const;

/** The end of phase 1: the cart and an agent held (the commit decision to log), or why the order is refused. */
type Decision = { items: HeldLine[]; agentId: number } | { refused: NotPlacedReason; shortages?: Shortage[] };

/** Participant answers that end phase 1 for good, and the reason the order then carries. */
const FINAL_REFUSALS: Partial<Record<ErrorCode, NotPlacedReason>> = {
  [ErrorCode.STORE_NOT_FOUND]: NotPlacedReason.STORE_NOT_FOUND,
  [ErrorCode.UNKNOWN_FOOD]: NotPlacedReason.UNKNOWN_FOOD,
  [ErrorCode.OUT_OF_STOCK]: NotPlacedReason.OUT_OF_STOCK,
  [ErrorCode.NO_AGENT]: NotPlacedReason.NO_AGENT,
  [ErrorCode.ORDER_RELEASED]: NotPlacedReason.COORDINATOR_RECOVERY,
  // Only a driver stalled past RETENTION_MS (recovery has long aborted its order) can meet this.
  [ErrorCode.ORDER_TOO_OLD]: NotPlacedReason.REQUEST_EXPIRED,
};

/** How often a duplicate command looks at an order another driver owns, until it is decided. */
const OUTCOME_POLL_MS = 50;

/**
 * The two-phase commit coordinator: the order machine of ORDER_STATES (libs/contracts), drawn in
 * docs/protocol.md. Each state is logged by OrderJournal before the action it allows, under the
 * lease of the one driver that owns the order, so RecoveryService can finish any order from its
 * logged state after a crash, and a second driver never acts beside the first.
 */
@Injectable()
export class CoordinatorService {
  constructor(
    private readonly journal: OrderJournal,
    private readonly keys: IdempotencyKeys,
    private readonly participants: Participants,
    private readonly faults: FaultPoints,
    private readonly env: OrderEnv,
  ) {}

  /** `onWaiting` is told once if the order begins to wait for stock on its way back (see reserveBoth). */
  async place(command: PlaceOrderCommand, onWaiting?: () => void): Promise<OrderView> {
    const { orderId, idempotencyKey, deadline } = command;
    const cart: Cart = { storeId: command.storeId, items: command.items };
    if (Date.now() > Math.min(deadline, this.lostAt(orderId))) {
      // The gateway has stopped waiting: starting now could place an order nobody was told of.
      const recorded = await this.journal.begin(orderId, cart, OrderState.NOT_PLACED, NotPlacedReason.REQUEST_EXPIRED, idempotencyKey);
      return (!recorded && (await this.keys.earlierOrder(command))) || this.get(orderId);
    }
    const lease = await this.journal.begin(orderId, cart, OrderState.RESERVING, null, idempotencyKey);
    if (!lease) {
      // A client's retry with the same key: answered with the order the key made first.
      const earlier = await this.keys.earlierOrder(command);
      if (earlier) return earlier;
      // The same command again (redelivered or duplicated): its first driver owns the order.
      return this.awaitOutcome(orderId, deadline);
    }

    const decision = await this.reserveBoth(orderId, cart, onWaiting);
    if ('refused' in decision) return this.abort(lease, OrderState.RESERVING, cart.items, decision, deadline);
    // The commit decision is durable before any assign is sent.
    if (!(await this.journal.transition(lease, OrderState.RESERVING, OrderState.COMMITTING, decision))) {
      return this.awaitOutcome(orderId, deadline);
    }
    await this.faults.reach('after-decision', orderId);
    return this.commit(lease, decision, deadline);
  }

  async get(orderId: string, withLog = false): Promise<OrderView> {
    const view = await this.journal.view(orderId, withLog);
    if (!view) throw new ContractException(ErrorCode.ORDER_NOT_FOUND, `Order ${orderId} does not exist`);
    return view;
  }

  /**
   * A client's look-up (GET /orders/:id), which settles a lost order: an order never seen whose
   * command can no longer start (place() refuses it) was lost on the way, if a gateway minted it,
   * and is recorded NOT_PLACED, so the client that was told "pending" gets an outcome. begin()
   * arbitrates a race with a command arriving just then. Before that, such an order is still
   * pending (ORDER_PENDING), as the client was told.
   */
  async lookUpOrRecordLost(orderId: string): Promise<OrderView> {
    const view = await this.journal.view(orderId, true);
    // Only an id a gateway minted can have had a command; a made-up one is simply not found.
    if (view || !isMintedOrderId(orderId, this.env.ORDER_ID_SECRET)) return view ?? this.get(orderId);
    // A client told "pending" is told so again, not "not found", while the command may still come.
    if (Date.now() <= this.lostAt(orderId))
      throw new ContractException(ErrorCode.ORDER_PENDING, `Order ${orderId} has not reached the order service yet`);
    await this.journal.begin(orderId, null, OrderState.NOT_PLACED, NotPlacedReason.REQUEST_LOST);
    return this.get(orderId, true);
  }

  /** Drives an order taken over under `lease` (recovery, or a duplicate command) from its logged state to a settled one. */
  resume(order: Order, lease: OrderLease): Promise<OrderView> {
    switch (order.state) {
      case OrderState.RESERVING:
        // No decision was logged and the first driver is gone: presumed abort.
        return this.abort(lease, OrderState.RESERVING, order.items, { refused: NotPlacedReason.COORDINATOR_RECOVERY });
      case OrderState.COMMITTING:
        return this.commit(lease, { items: order.items, agentId: order.agentId! });
      case OrderState.ABORTING:
        return this.finishAbort(lease);
      case OrderState.DELIVERING:
        return this.finishDelivery(lease);
      default:
        return this.get(order.id);
    }
  }

  async markDelivered(orderId: string): Promise<OrderView> {
    const order = await this.get(orderId);
    if (order.state === OrderState.DELIVERING || order.state === OrderState.DELIVERED) {
      return this.awaitOutcome(orderId, Date.now() + this.env.LEASE_MS, isSettled);
    }
    if (order.state !== OrderState.PLACED) {
      throw new ContractException(ErrorCode.ORDER_NOT_DELIVERABLE, `Order ${orderId} is ${order.state}, not PLACED`);
    }
    const lease = await this.journal.reopen(orderId, OrderState.PLACED, OrderState.DELIVERING);
    if (!lease) return this.markDelivered(orderId);
    return this.finishDelivery(lease);
  }

  /**
   * Phase 1: every packet of the cart and one agent of its store, asked for at once. A participant
   * that has not enough free but holds rows for orders still deciding answers "contended", and the
   * order asks again for up to CONTENTION_WAIT_MS instead of being refused while stock may still
   * come back (I7). Packets come before agents: after the first try an order never keeps an agent
   * while it waits for packets, so no two orders go on holding what the other waits for.
   */
  private async reserveBoth(orderId: string, cart: Cart, onWaiting?: () => void): Promise<Decision> {
    const giveUpAt = Date.now() + this.env.CONTENTION_WAIT_MS;
    // Each agent reserve is a new attempt; a yield names the attempt it gives back, so a late copy
    // of an old yield can never free the agent a later attempt holds.
    let attempt = 0;
    const askPackets = () =>
      this.reserve(
        orderId,
        this.participants.reserveCart(orderId, cart).then((r) => r.items),
      );
    const askAgent = () =>
      this.reserve(
        orderId,
        this.participants.reserveAgent(orderId, cart.storeId, ++attempt).then((r) => r.agentId),
      );

    let packets: Reserve<HeldLine[]>;
    let agent: Reserve<number>;
    [packets, agent] = await Promise.all([askPackets(), askAgent()]);
    for (let pause = 2; ; pause = Math.min(pause * 2, 50)) {
      // The store's refusal first: an unknown store or food, or stock, says more than NO_AGENT.
      if ('refused' in packets) return packets;
      if ('refused' in agent) return agent;
      if ('held' in packets && 'held' in agent) return { items: packets.held, agentId: agent.held };
      // Contended: the order waits for rows other orders hold and may give back.
      if (pause === 2) onWaiting?.();
      if (Date.now() >= giveUpAt) {
        return 'held' in packets
          ? { refused: NotPlacedReason.NO_AGENT }
          : { refused: NotPlacedReason.OUT_OF_STOCK, shortages: packets.shortages };
      }
      if ('held' in agent) {
        if (!(await succeeds(this.participants.yieldAgent(orderId, agent.held, attempt))))
          return { refused: NotPlacedReason.SERVICE_UNAVAILABLE };
        agent = NOT_HELD;
      }
      await sleep(pause * (0.5 + Math.random()));
      if (!('held' in packets)) packets = await askPackets();
      if ('held' in packets) agent = await askAgent();
    }
  }

  /** One phase-1 call, as the loop of reserveBoth reads it. */
  private async reserve<T>(orderId: string, call: Promise<T>): Promise<Reserve<T>> {
    try {
      const held = await call;
      await this.faults.reach('after-reserve', orderId);
      return { held };
    } catch (err) {
      const code = err instanceof RpcCallError ? err.code : ErrorCode.INTERNAL;
      const shortages = err instanceof RpcCallError ? shortagesOf(err.details) : undefined;
      if (code === ErrorCode.ALL_RESERVED) return { contended: true, shortages };
      return { refused: FINAL_REFUSALS[code] ?? NotPlacedReason.SERVICE_UNAVAILABLE, shortages };
    }
  }

  /**
   * Phase 2: assigns exactly the rows logged with the decision. A call whose outcome stays unknown
   * is retried with backoff. Only a side that lost its reservation (RESERVATION_LOST) makes the
   * order abort, which gives back whatever the other side reserved or assigned. A decided order is
   * never aborted because a participant is unreachable (classic two-phase commit): it stays
   * COMMITTING, and recovery assigns again once this driver's lease runs out, until both answer.
   * Assign is idempotent, so recovery may run this again for an order whose driver died half-way.
   */
  private async commit(lease: OrderLease, logged: { items: OrderLine[]; agentId: number }, deadline?: number): Promise<OrderView> {
    const { orderId } = lease;
    const assign = async (call: () => Promise<unknown>): Promise<ErrorCode | undefined> => {
      try {
        await this.withRetry(call);
        await this.faults.reach('after-first-assign', orderId);
        return undefined;
      } catch (err) {
        return err instanceof RpcCallError ? err.code : ErrorCode.INTERNAL;
      }
    };
    const failures = await Promise.all([
      assign(() =>
        this.participants.assignPackets(
          orderId,
          logged.items.flatMap((line) => line.packetIds),
        ),
      ),
      assign(() => this.participants.assignAgent(orderId, logged.agentId)),
    ]);
    if (failures.every((code) => code === undefined)) {
      const placed = await this.journal.transition(lease, OrderState.COMMITTING, OrderState.PLACED);
      return placed ? toView(placed) : this.awaitOutcome(orderId, deadline);
    }
    if (failures.includes(ErrorCode.RESERVATION_LOST)) {
      return this.abort(lease, OrderState.COMMITTING, logged.items, { refused: NotPlacedReason.RESERVATION_EXPIRED }, deadline);
    }
    noteUnanswered(orderId, failures);
    return this.get(orderId);
  }

  /**
   * Decides the abort: logs the reason, and the cart as asked for, holding nothing (with, per food
   * out of stock, how many were missing), before anything is released.
   */
  private async abort(
    lease: OrderLease,
    from: OrderState,
    cart: CartLine[],
    { refused: reason, shortages = [] }: { refused: NotPlacedReason; shortages?: Shortage[] },
    deadline?: number,
  ): Promise<OrderView> {
    const items = cart.map(({ foodId, quantity }): OrderLine => {
      const missing = shortages.find((shortage) => shortage.foodId === foodId)?.missing;
      return missing === undefined ? { foodId, quantity, packetIds: [] } : { foodId, quantity, packetIds: [], missing };
    });
    const changes = { reason, items, agentId: null };
    if (!(await this.journal.transition(lease, from, OrderState.ABORTING, changes))) return this.awaitOutcome(lease.orderId, deadline);
    return this.finishAbort(lease);
  }

  /** Releases both sides (harmless where nothing is held); until both confirm, the order stays ABORTING. */
  private async finishAbort(lease: OrderLease): Promise<OrderView> {
    const released = await Promise.all([
      succeeds(this.withRetry(() => this.participants.releasePackets(lease.orderId))),
      succeeds(this.withRetry(() => this.participants.releaseAgent(lease.orderId))),
    ]);
    const aborted = released.every(Boolean) && (await this.journal.transition(lease, OrderState.ABORTING, OrderState.NOT_PLACED));
    return aborted ? toView(aborted) : this.get(lease.orderId);
  }

  private async finishDelivery(lease: OrderLease): Promise<OrderView> {
    if (await succeeds(this.withRetry(() => this.participants.completeDelivery(lease.orderId)))) {
      await this.journal.transition(lease, OrderState.DELIVERING, OrderState.DELIVERED);
    }
    return this.get(lease.orderId);
  }

  /**
   * The answer for a caller that does not own the order (a duplicated command, or a driver that
   * lost its lease): the order as its owner leaves it. Until `deadline` it waits for the outcome,
   * and takes the order over, fenced by a new lease, should its owner stop (its lease runs out).
   */
  private async awaitOutcome(orderId: string, deadline = 0, done = isDecided): Promise<OrderView> {
    for (;;) {
      const order = await this.journal.find(orderId);
      if (!order || done(order.state) || Date.now() >= deadline) return this.get(orderId);
      if (order.leaseUntil.getTime() < Date.now()) {
        const lease = await this.journal.claim(order);
        if (lease) return this.resume(order, lease);
      }
      await sleep(OUTCOME_POLL_MS);
    }
  }

  /** The time after which this order's command is refused, and its absence means it was lost. */
  private lostAt(orderId: string): number {
    const mintedAt = orderIdMintedAt(orderId);
    return mintedAt === undefined ? Number.POSITIVE_INFINITY : mintedAt + this.env.ORDER_LOST_AFTER_MS;
  }

  /** Retries a call that failed transiently (timeout, broker down, rolled-back error); a participant's refusal is final. */
  private async withRetry<T>(call: () => Promise<T>): Promise<T> {
    for (let attemptNo = 1; ; attemptNo++) {
      try {
        return await call();
      } catch (err) {
        if (!(err instanceof RpcCallError && err.transient) || attemptNo >= this.env.PHASE2_ATTEMPTS) throw err;
        noteRetry(err, attemptNo, this.env.PHASE2_ATTEMPTS);
        await sleep(this.env.RETRY_BASE_MS * 2 ** (attemptNo - 1));
      }
    }
  }
}

/** The foods a participant named short, from a refusal's details (strings for other refusals). */
function shortagesOf(details: RpcCallError['details']): Shortage[] | undefined {
  const shortages = ((details ?? []) as unknown[]).filter((d): d is Shortage => typeof d === 'object' && d !== null && 'foodId' in d);
  return shortages.length > 0 ? shortages : undefined;
}

/** A client can be told the outcome: placed or not placed. */
function isDecided(state: OrderState): boolean {
  return outcomeOf(state) !== 'pending';
}

function isSettled(state: OrderState): boolean {
  return ORDER_STATES[state].settled;
}

async function succeeds(call: Promise<unknown>): Promise<boolean> {
  try {
    await call;
    return true;
  } catch {
    return false;
  }
}
