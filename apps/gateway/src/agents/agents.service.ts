import { AgentsCreated, AgentsView, CreateAgentsCommand, CreateAgentsDto, DeliveryPattern, Queue } from '@app/contracts';
import { call, clientToken } from '@app/platform';
import { Inject, Injectable } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { randomUUID } from 'node:crypto';
import { GatewayEnv } from '../config/gateway.env';

/** Delivery agents, on delivery's admin queue; additions carry an Idempotency-Key as in FoodsService. */
@Injectable()
export class AgentsService {
  constructor(
    @Inject(clientToken(Queue.DELIVERY_ADMIN)) private readonly delivery: ClientProxy,
    private readonly env: GatewayEnv,
  ) {}

  create(dto: CreateAgentsDto, idempotencyKey: string = randomUUID()): Promise<AgentsCreated> {
    const command: CreateAgentsCommand = { ...dto, idempotencyKey };
    return call(this.delivery, DeliveryPattern.CREATE_AGENTS, command, this.env.ORDER_WAIT_MS);
  }

  /** A read: dropped, never run, once its caller has stopped waiting. */
  list(): Promise<AgentsView> {
    return call(this.delivery, DeliveryPattern.LIST_AGENTS, {}, this.env.RPC_TIMEOUT_MS, { expire: true });
  }
}
