import {
  AssignAgentDto,
  AgentAssignment,
  AgentReservation,
  DeliveryPattern,
  AssignPacketsDto,
  CartLine,
  CartReservation,
  PacketsAssignment,
  ReserveCartDto,
  Queue,
  OrderRefDto,
  ReleaseResult,
  ReserveAgentDto,
  StorePattern,
  YieldAgentDto,
} from '@app/contracts';
import { Batcher, call, clientToken, sendBatch } from '@app/platform';
import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { OrderEnv } from '../config/order.env';

/**
 * The two participants of every order, as the coordinator calls them: each call with a timeout,
 * and a debug line per step a participant confirmed (refusals and failures show in the decision).
 * Reserve, assign and release go through a Batcher each: the calls of many orders made while one
 * batch is out, or side by side, travel as one message, which the participant runs in one
 * transaction.
 */
@Injectable()
export class Participants implements OnApplicationBootstrap {
  private readonly logger = new Logger('Coordinator');
  private readonly reserveCarts: Batcher<ReserveCartDto, CartReservation>;
  private readonly assignPacketsBatch: Batcher<AssignPacketsDto, PacketsAssignment>;
  private readonly releasePacketsBatch: Batcher<OrderRefDto, ReleaseResult>;
  private readonly reserveAgents: Batcher<ReserveAgentDto, AgentReservation>;
  private readonly assignAgents: Batcher<AssignAgentDto, AgentAssignment>;
  private readonly releaseAgents: Batcher<OrderRefDto, ReleaseResult>;

  constructor(
    @Inject(clientToken(Queue.STORE)) private readonly store: ClientProxy,
    @Inject(clientToken(Queue.DELIVERY)) private readonly delivery: ClientProxy,
    private readonly env: OrderEnv,
  ) {
    const batcher = <I, O>(client: ClientProxy, pattern: string) =>
      new Batcher<I, O>(pattern, sendBatch<I, O>(client, pattern, env.RPC_TIMEOUT_MS), {
        max: env.BATCH_MAX,
        inFlight: env.BATCH_IN_FLIGHT,
      });
    this.reserveCarts = batcher(store, StorePattern.RESERVE_CARTS);
    this.assignPacketsBatch = batcher(store, StorePattern.ASSIGN_PACKETS_BATCH);
    this.releasePacketsBatch = batcher(store, StorePattern.RELEASE_PACKETS_BATCH);
    this.reserveAgents = batcher(delivery, DeliveryPattern.RESERVE_AGENTS);
    this.assignAgents = batcher(delivery, DeliveryPattern.ASSIGN_AGENTS);
    this.releaseAgents = batcher(delivery, DeliveryPattern.RELEASE_AGENTS);
  }

  /**
   * Connects up front so the first order does not pay for it. Not awaited: a broker that is down at
   * start-up must not stop the service (call() connects again before each request, and answers
   * SERVICE_UNAVAILABLE meanwhile).
   */
  onApplicationBootstrap(): void {
    Promise.all([this.store.connect(), this.delivery.connect()]).catch((err: unknown) =>
      this.logger.warn({ err }, 'RabbitMQ is not reachable yet; the clients connect on the first call'),
    );
  }

  reserveCart(orderId: string, { storeId, items }: { storeId: number; items: CartLine[] }): Promise<CartReservation> {
    const request: ReserveCartDto = { orderId, storeId, items };
    return this.confirmed(
      this.reserveCarts.call(request),
      (r) => `reserved packets ${r.items.flatMap((line) => line.packetIds).join(', ')} of dark store ${storeId}`,
    );
  }

  reserveAgent(orderId: string, storeId: number, attempt: number): Promise<AgentReservation> {
    const request: ReserveAgentDto = { orderId, storeId, attempt };
    return this.confirmed(this.reserveAgents.call(request), (r) => `reserved agent ${r.agentId}`);
  }

  yieldAgent(orderId: string, agentId: number, attempt: number): Promise<ReleaseResult> {
    const request: YieldAgentDto = { orderId, agentId, attempt };
    return this.confirmed(
      call(this.delivery, DeliveryPattern.YIELD_AGENT, request, this.env.RPC_TIMEOUT_MS),
      (r) => `gave agent ${agentId} of attempt ${attempt} back to wait for a packet (${r.freed} freed)`,
    );
  }

  assignPackets(orderId: string, packetIds: number[]): Promise<PacketsAssignment> {
    const request: AssignPacketsDto = { orderId, packetIds };
    return this.confirmed(this.assignPacketsBatch.call(request), (r) => `assigned packets ${r.packetIds.join(', ')}`);
  }

  assignAgent(orderId: string, agentId: number): Promise<AgentAssignment> {
    return this.confirmed(this.assignAgents.call({ orderId, agentId }), (r) => `assigned agent ${r.agentId}`);
  }

  releasePackets(orderId: string): Promise<ReleaseResult> {
    return this.confirmed(this.releasePacketsBatch.call({ orderId }), (r) => `released packets: ${r.freed} freed`);
  }

  releaseAgent(orderId: string): Promise<ReleaseResult> {
    return this.confirmed(this.releaseAgents.call({ orderId }), (r) => `released agents: ${r.freed} freed`);
  }

  completeDelivery(orderId: string): Promise<ReleaseResult> {
    return this.confirmed(
      call(this.delivery, DeliveryPattern.COMPLETE_DELIVERY, { orderId }, this.env.RPC_TIMEOUT_MS),
      () => 'delivery completed, agent freed',
    );
  }

  private async confirmed<T extends { orderId: string }>(reply: Promise<T>, describe: (reply: T) => string): Promise<T> {
    const result = await reply;
    // The order's state changes are its lines at info (see OrderTelemetry); each participant's step is detail.
    this.logger.debug(result, describe(result));
    return result;
  }
}
