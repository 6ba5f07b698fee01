import {
  AgentAssignment,
  AgentReservation,
  DeliveryPattern,
  PacketAssignment,
  PacketReservation,
  Queue,
  ReleaseResult,
  StorePattern,
  call,
  clientToken,
} from '@app/contracts';
import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { OrderEnv } from '../config/order.env';

/** The two participants of every order, as the coordinator calls them: each call with a timeout. */
@Injectable()
export class Participants implements OnApplicationBootstrap {
  constructor(
    @Inject(clientToken(Queue.STORE)) private readonly store: ClientProxy,
    @Inject(clientToken(Queue.DELIVERY)) private readonly delivery: ClientProxy,
    private readonly env: OrderEnv,
  ) {}

  /** Connects up front so the first order does not pay for it; a broker that is down is retried by the client. */
  async onApplicationBootstrap(): Promise<void> {
    await Promise.all([this.store.connect(), this.delivery.connect()]);
  }

  reservePacket(orderId: string, foodId: number): Promise<PacketReservation> {
    return call(this.store, StorePattern.RESERVE_PACKET, { orderId, foodId }, this.env.RPC_TIMEOUT_MS);
  }

  reserveAgent(orderId: string): Promise<AgentReservation> {
    return call(this.delivery, DeliveryPattern.RESERVE_AGENT, { orderId }, this.env.RPC_TIMEOUT_MS);
  }

  yieldAgent(orderId: string): Promise<ReleaseResult> {
    return call(this.delivery, DeliveryPattern.YIELD_AGENT, { orderId }, this.env.RPC_TIMEOUT_MS);
  }

  assignPacket(orderId: string, packetId: number): Promise<PacketAssignment> {
    return call(this.store, StorePattern.ASSIGN_PACKET, { orderId, packetId }, this.env.RPC_TIMEOUT_MS);
  }

  assignAgent(orderId: string, agentId: number): Promise<AgentAssignment> {
    return call(this.delivery, DeliveryPattern.ASSIGN_AGENT, { orderId, agentId }, this.env.RPC_TIMEOUT_MS);
  }

  releasePacket(orderId: string): Promise<ReleaseResult> {
    return call(this.store, StorePattern.RELEASE_PACKET, { orderId }, this.env.RPC_TIMEOUT_MS);
  }

  releaseAgent(orderId: string): Promise<ReleaseResult> {
    return call(this.delivery, DeliveryPattern.RELEASE_AGENT, { orderId }, this.env.RPC_TIMEOUT_MS);
  }

  completeDelivery(orderId: string): Promise<ReleaseResult> {
    return call(this.delivery, DeliveryPattern.COMPLETE_DELIVERY, { orderId }, this.env.RPC_TIMEOUT_MS);
  }
}
