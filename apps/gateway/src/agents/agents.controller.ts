import { AgentsCreated, AgentsView, CreateAgentsDto, ErrorCode } from '@app/contracts';
import { Body, Controller, Get, Post } from '@nestjs/common';
import { AdminOnly } from '../auth/admin-key.guard';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../docs/api-errors.decorator';
import { AgentsCreatedDoc, AgentsViewDoc } from '../docs/schemas';
import { ADDITION_RETRIES, IdempotencyKey } from '../http/idempotency-key';
import { AgentsService } from './agents.service';

@ApiTags('agents')
@Controller('agents')
export class AgentsController {
  constructor(private readonly agents: AgentsService) {}

  @Post()
  @AdminOnly()
  @ApiOperation({ summary: 'Add delivery agents: `count` anonymous ones or the named ones in `names`' })
  @ApiCreatedResponse({ type: AgentsCreatedDoc })
  @ApiErrors(ErrorCode.IDEMPOTENCY_KEY_REUSED, ErrorCode.AGENT_EXISTS, ErrorCode.SERVICE_UNAVAILABLE)
  create(@Body() dto: CreateAgentsDto, @IdempotencyKey(ADDITION_RETRIES) idempotencyKey: string | undefined): Promise<AgentsCreated> {
    return this.agents.create(dto, idempotencyKey);
  }

  @Get()
  @ApiOperation({ summary: 'Free, reserved, assigned and total agents' })
  @ApiOkResponse({ type: AgentsViewDoc })
  @ApiErrors(ErrorCode.SERVICE_UNAVAILABLE)
  list(): Promise<AgentsView> {
    return this.agents.list();
  }
}
