import { AgentsCreated, AgentsView, CreateAgentsDto, DEFAULT_STORE_ID, ErrorCode } from '@app/contracts';
import { Body, Controller, Get, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../auth/admin-key.guard';
import { ApiErrors } from '../docs/api-errors.decorator';
import { AgentsCreatedDoc, AgentsViewDoc } from '../docs/schemas';
import { ADDITION_RETRIES, IdempotencyKey } from '../http/idempotency-key';
import { StoresService } from '../stores/stores.service';

/** The agents of the default dark store: the single-store API, as before dark stores (see /stores for every store). */
@ApiTags('agents')
@Controller('agents')
export class AgentsController {
  constructor(private readonly stores: StoresService) {}

  @Post()
  @AdminOnly()
  @ApiOperation({ summary: 'Add delivery agents to the default dark store: `count` anonymous ones or the named ones in `names`' })
  @ApiCreatedResponse({ type: AgentsCreatedDoc })
  @ApiErrors(ErrorCode.IDEMPOTENCY_KEY_REUSED, ErrorCode.AGENT_EXISTS, ErrorCode.SERVICE_UNAVAILABLE)
  create(@Body() dto: CreateAgentsDto, @IdempotencyKey(ADDITION_RETRIES) idempotencyKey: string | undefined): Promise<AgentsCreated> {
    return this.stores.addAgents(DEFAULT_STORE_ID, dto, idempotencyKey, true);
  }

  @Get()
  @ApiOperation({ summary: 'Free, reserved, assigned and total agents of the default dark store' })
  @ApiOkResponse({ type: AgentsViewDoc })
  @ApiErrors(ErrorCode.SERVICE_UNAVAILABLE)
  list(): Promise<AgentsView> {
    return this.stores.agents(DEFAULT_STORE_ID);
  }
}
