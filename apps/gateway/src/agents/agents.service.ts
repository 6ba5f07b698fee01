import { AgentsCreated, AgentsView, CreateAgentsDto, DeliveryPattern, Queue } from '@app/contracts';
import { call, clientToken } from '@app/platform';
import { Inject, Injectable } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { GatewayEnv } from '../config/gateway.env';

@Injectable()
export class AgentsService {
  constructor(
    @Inject(clientToken(Queue.DELIVERY)) private readonly delivery: ClientProxy,
    private readonly env: GatewayEnv,
  ) {}

  create(dto: CreateAgentsDto): Promise<AgentsCreated> {
    return call(this.delivery, DeliveryPattern.CREATE_AGENTS, dto, this.env.ORDER_WAIT_MS);
  }

  list(): Promise<AgentsView> {
    return call(this.delivery, DeliveryPattern.LIST_AGENTS, {}, this.env.RPC_TIMEOUT_MS);
  }
}
