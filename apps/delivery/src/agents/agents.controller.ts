import {
  AgentAssignment,
  AgentReservation,
  AgentsCreated,
  AssignAgentDto,
  AssignAgentsDto,
  BatchReply,
  CreateAgentsCommand,
  DeliveryPattern,
  ListAgentsDto,
  OrderRefDto,
  ReleaseBatchDto,
  ReleaseResult,
  ReserveAgentDto,
  ReserveAgentsDto,
  StoreAgents,
  YieldAgentDto,
} from '@app/contracts';
import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { AgentsService } from './agents.service';

@Controller()
export class AgentsController {
  constructor(private readonly agents: AgentsService) {}

  @MessagePattern(DeliveryPattern.RESERVE_AGENT)
  reserve(@Payload() dto: ReserveAgentDto): Promise<AgentReservation> {
    return this.agents.reserve(dto.orderId, dto.storeId, dto.attempt);
  }

  @MessagePattern(DeliveryPattern.ASSIGN_AGENT)
  assign(@Payload() dto: AssignAgentDto): Promise<AgentAssignment> {
    return this.agents.assign(dto.orderId, dto.agentId);
  }

  @MessagePattern(DeliveryPattern.RELEASE_AGENT)
  release(@Payload() dto: OrderRefDto): Promise<ReleaseResult> {
    return this.agents.release(dto.orderId);
  }

  @MessagePattern(DeliveryPattern.RESERVE_AGENTS)
  async reserveBatch(@Payload() dto: ReserveAgentsDto): Promise<BatchReply<AgentReservation>> {
    return { outcomes: await this.agents.reserveBatch(dto.requests) };
  }

  @MessagePattern(DeliveryPattern.ASSIGN_AGENTS)
  async assignBatch(@Payload() dto: AssignAgentsDto): Promise<BatchReply<AgentAssignment>> {
    return { outcomes: await this.agents.assignBatch(dto.requests) };
  }

  @MessagePattern(DeliveryPattern.RELEASE_AGENTS)
  async releaseBatch(@Payload() dto: ReleaseBatchDto): Promise<BatchReply<ReleaseResult>> {
    return { outcomes: await this.agents.releaseBatch(dto.requests) };
  }

  @MessagePattern(DeliveryPattern.YIELD_AGENT)
  yield(@Payload() dto: YieldAgentDto): Promise<ReleaseResult> {
    return this.agents.yield(dto.orderId, dto.agentId, dto.attempt);
  }

  @MessagePattern(DeliveryPattern.COMPLETE_DELIVERY)
  complete(@Payload() dto: OrderRefDto): Promise<ReleaseResult> {
    return this.agents.complete(dto.orderId);
  }

  @MessagePattern(DeliveryPattern.CREATE_AGENTS)
  create(@Payload() dto: CreateAgentsCommand): Promise<AgentsCreated> {
    return this.agents.create(dto.storeId, dto.count, dto.names, dto.idempotencyKey);
  }

  @MessagePattern(DeliveryPattern.LIST_AGENTS)
  list(@Payload() dto: ListAgentsDto): Promise<StoreAgents[]> {
    return this.agents.view(dto.storeId);
  }
}
