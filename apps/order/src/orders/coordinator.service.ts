import { ErrorCode, isMintedOrderId, NotPlacedReason, orderIdMintedAt, OrderState, OrderView, PlaceOrderCommand } from '@app/contracts';
import { ContractException, RpcCallError } from '@app/platform';
import { Injectable } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { OrderEnv } from '../config/order.env';
import { FaultPoints } from './fault-points';
import { IdempotencyKeys } from './idempotency-keys.service';
import { OrderJournal } from './order-journal.service';
import { Order } from './order.entity';
import { noteRetry } from './order-telemetry';
import { Participants } from './participants';

type Attempt<T> = { ok: T } | { error: RpcCallError };
type PhaseOneOutcome = { packetId: number; agentId: number } | { refusal: NotPlacedReason };

/** An agent this order gave back (or has not asked for) while it waits for a packet. */
const WAITING: Attempt<never> = { error: new RpcCallError(ErrorCode.ALL_RESERVED, 'waiting for a packet first') };

/** Participant answers that end phase 1 for good, and the reason the order then carries. */
const FINAL_REFUSALS: Partial<Record<ErrorCode, NotPlacedReason>> = {
  [ErrorCode.UNKNOWN_FOOD]: NotPlacedReason.UNKNOWN_FOOD,
  [ErrorCode.OUT_OF_STOCK]: NotPlacedReason.OUT_OF_STOCK,
  [ErrorCode.NO_AGENT]: NotPlacedReason.NO_AGENT,
  [ErrorCode.ORDER_RELEASED]: NotPlacedReason.COORDINATOR_RECOVERY,
};

/**
 * The two-phase commit coordinator. Each step is logged by OrderJournal before it is acted on, so
 * RecoveryService can finish any order from its logged state after a crash:
 * RESERVING -> COMMITTING -> PLACED, or -> ABORTING -> NOT_PLACED; PLACED -> DELIVERING -> DELIVERED.
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

  async place(command: PlaceOrderCommand): Promise<OrderView> {
    const { orderId, foodId, idempotencyKey } = command;
    if (Date.now() > Math.min(command.deadline, this.lostAt(orderId))) {
      // The gateway has stopped waiting: starting now could place an order nobody was told of.
      const recorded = await this.journal.begin(orderId, foodId, OrderState.NOT_PLACED, NotPlacedReason.REQUEST_EXPIRED, idempotencyKey);
      return (!recorded && (await this.keys.earlierOrder(command))) || this.get(orderId);
    }
    if (!(await this.journal.begin(orderId, foodId, OrderState.RESERVING, null, idempotencyKey))) {
      // A client's retry: answered with the order its key made first.
      const earlier = await this.keys.earlierOrder(command);
      if (earlier) return earlier;
      // Seen before. While nothing is decided, driving phase 1 again is harmless (reserves are
      // idempotent, the decision a compare-and-set) and finishes an order whose first driver died.
      const existing = await this.get(orderId);
      if (existing.state !== OrderState.RESERVING || existing.foodId !== foodId) return existing;
    }

    const outcome = await this.reserveBoth(orderId, foodId);
    if ('refusal' in outcome) return this.abort(orderId, OrderState.RESERVING, outcome.refusal);

    // The commit decision is durable before any assign is sent.
    const decided = await this.journal.transition(orderId, [OrderState.RESERVING], OrderState.COMMITTING, outcome);
    if (!decided) return this.get(orderId);
    await this.faults.reach('after-decision', orderId);
    return this.commit(orderId, outcome);
  }

  async get(orderId: string, withLog = false): Promise<OrderView> {
    const view = await this.journal.view(orderId, withLog);
    if (!view) throw new ContractException(ErrorCode.ORDER_NOT_FOUND, `Order ${orderId} does not exist`);
    return view;
  }

  /**
   * A client's look-up (GET /orders/:id). An order never seen whose command can no longer start
   * (place() refuses it) was lost on the way, if a gateway minted it: it is recorded NOT_PLACED, so
   * the client that was told "pending" gets an outcome. begin() arbitrates a race with a command
   * arriving just then.
   */
  async lookUp(orderId: string): Promise<OrderView> {
    const view = await this.journal.view(orderId, true);
    // Only an id a gateway minted can have had a command; a made-up one is simply not found.
    if (view || Date.now() <= this.lostAt(orderId) || !isMintedOrderId(orderId, this.env.ORDER_ID_SECRET)) return view ?? this.get(orderId);
    await this.journal.begin(orderId, null, OrderState.NOT_PLACED, NotPlacedReason.REQUEST_LOST);
    return this.get(orderId, true);
  }

  /** Drives an order taken over by recovery from its logged state to a settled one. */
  resume(order: Order): Promise<OrderView> {
    switch (order.state) {
      case OrderState.RESERVING:
        // No decision was logged: the reservations' outcome is unknown, so abort.
        return this.abort(order.id, OrderState.RESERVING, NotPlacedReason.COORDINATOR_RECOVERY);
      case OrderState.COMMITTING:
        return this.commit(order.id, { packetId: Number(order.packetId), agentId: order.agentId! });
      case OrderState.ABORTING:
        return this.finishAbort(order.id);
      case OrderState.DELIVERING:
        return this.finishDelivery(order.id);
      default:
        return this.get(order.id);
    }
  }

  async markDelivered(orderId: string): Promise<OrderView> {
    const order = await this.get(orderId);
    if (order.state === OrderState.DELIVERING || order.state === OrderState.DELIVERED) return this.finishDelivery(orderId);
    if (order.state !== OrderState.PLACED) {
      throw new ContractException(ErrorCode.ORDER_NOT_DELIVERABLE, `Order ${orderId} is ${order.state}, not PLACED`);
    }
    if (!(await this.journal.transition(orderId, [OrderState.PLACED], OrderState.DELIVERING))) return this.markDelivered(orderId);
    return this.finishDelivery(orderId);
  }

  /**
   * Phase 1: one packet and one agent, asked for in parallel. A participant that has nothing free
   * but holds rows for orders still deciding answers ALL_RESERVED, and the order asks again for up
   * to CONTENTION_WAIT_MS instead of being refused while stock may still come back (I7).
   */
  private async reserveBoth(orderId: string, foodId: number): Promise<PhaseOneOutcome> {
    const reserved = async <T>(result: Attempt<T>): Promise<Attempt<T>> => {
      if ('ok' in result) await this.faults.reach('after-reserve', orderId);
      return result;
    };
    const reservePacket = () => attempt(this.participants.reservePacket(orderId, foodId)).then(reserved);
    const reserveAgent = () => attempt(this.participants.reserveAgent(orderId)).then(reserved);
    const giveUpAt = Date.now() + this.env.CONTENTION_WAIT_MS;
    let [packet, agent] = await Promise.all([reservePacket(), reserveAgent()]);
    for (let pause = 2; ; pause = Math.min(pause * 2, 50)) {
      const refusal = finalRefusal(packet) ?? finalRefusal(agent);
      if (refusal) return { refusal };
      if ('ok' in packet && 'ok' in agent) return { packetId: packet.ok.packetId, agentId: agent.ok.agentId };
      if (Date.now() >= giveUpAt) return { refusal: 'ok' in packet ? NotPlacedReason.NO_AGENT : NotPlacedReason.OUT_OF_STOCK };
      if ('ok' in agent) {
        // Packets before agents: once the first parallel try is over, an order does not keep an
        // agent while it waits for a packet, so no two orders go on holding what the other waits for.
        const yielded = await attempt(this.participants.yieldAgent(orderId));
        if ('error' in yielded) return { refusal: NotPlacedReason.SERVICE_UNAVAILABLE };
        agent = WAITING;
      }
      await sleep(pause * (0.5 + Math.random()));
      if (!('ok' in packet)) packet = await reservePacket();
      if ('ok' in packet && !('ok' in agent)) agent = await reserveAgent();
    }
  }

  /**
   * Phase 2: assigns both reservations, exactly the rows logged with the decision. A call whose outcome stays unknown is retried with backoff;
   * a side that lost its reservation, or stays unreachable through every try, makes the order abort,
   * which gives back whatever the other side reserved or assigned. Assign is idempotent, so
   * recovery may run this again for an order whose coordinator died half-way.
   */
  private async commit(orderId: string, reserved: { packetId: number; agentId: number }): Promise<OrderView> {
    const assigned = async <T>(call: () => Promise<T>): Promise<Attempt<T>> => {
      const result = await attempt(this.withRetry(call));
      if ('ok' in result) await this.faults.reach('after-first-assign', orderId);
      return result;
    };
    const [packet, agent] = await Promise.all([
      assigned(() => this.participants.assignPacket(orderId, reserved.packetId)),
      assigned(() => this.participants.assignAgent(orderId, reserved.agentId)),
    ]);
    if ('ok' in packet && 'ok' in agent) {
      await this.journal.transition(orderId, [OrderState.COMMITTING], OrderState.PLACED);
      return this.get(orderId);
    }
    const lost = [packet, agent].some((r) => 'error' in r && r.error.code === ErrorCode.RESERVATION_LOST);
    const reason = lost ? NotPlacedReason.RESERVATION_EXPIRED : NotPlacedReason.SERVICE_UNAVAILABLE;
    return this.abort(orderId, OrderState.COMMITTING, reason);
  }

  private async abort(orderId: string, from: OrderState, reason: NotPlacedReason): Promise<OrderView> {
    const changes = { reason, packetId: null, agentId: null };
    if (!(await this.journal.transition(orderId, [from], OrderState.ABORTING, changes))) return this.get(orderId);
    return this.finishAbort(orderId);
  }

  /** Releases both sides (harmless where nothing is held); until both confirm, the order stays ABORTING. */
  private async finishAbort(orderId: string): Promise<OrderView> {
    const released = await Promise.all([
      attempt(this.withRetry(() => this.participants.releasePacket(orderId))),
      attempt(this.withRetry(() => this.participants.releaseAgent(orderId))),
    ]);
    if (released.every((r) => 'ok' in r)) {
      await this.journal.transition(orderId, [OrderState.ABORTING], OrderState.NOT_PLACED);
    }
    return this.get(orderId);
  }

  private async finishDelivery(orderId: string): Promise<OrderView> {
    const order = await this.get(orderId);
    if (order.state !== OrderState.DELIVERING) return order;
    const completed = await attempt(this.withRetry(() => this.participants.completeDelivery(orderId)));
    if ('ok' in completed) await this.journal.transition(orderId, [OrderState.DELIVERING], OrderState.DELIVERED);
    return this.get(orderId);
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

async function attempt<T>(promise: Promise<T>): Promise<Attempt<T>> {
  try {
    return { ok: await promise };
  } catch (err) {
    return { error: err instanceof RpcCallError ? err : new RpcCallError(ErrorCode.INTERNAL, String(err)) };
  }
}

/** The reason phase 1 must stop now, or undefined while it may still succeed. */
function finalRefusal(result: Attempt<unknown>): NotPlacedReason | undefined {
  if ('ok' in result || result.error.code === ErrorCode.ALL_RESERVED) return undefined;
  return FINAL_REFUSALS[result.error.code] ?? NotPlacedReason.SERVICE_UNAVAILABLE;
}
