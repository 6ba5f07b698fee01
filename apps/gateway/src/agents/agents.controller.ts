import { AgentsCreated, AgentsView, CreateAgentsDto, ErrorCode } from '@app/contracts';
import { Body, Controller, Get, Post } from '@nestjs/common';
import { AdminOnly } from '../auth/admin-key.guard';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../docs/api-errors.decorator';
import { AgentsCreatedDoc, AgentsViewDoc } from '../docs/schemas';
import { AgentsService } from './agents.service';

@ApiTags('agents')
@Controller('agents')
export class AgentsController {
  constructor(private readonly agents: AgentsService) {}

  @Post()
  @AdminOnly()
  @ApiOperation({ summary: 'Add delivery agents: `count` anonymous ones or the named ones in `names`' })
  @ApiCreatedResponse({ type: AgentsCreatedDoc })
  @ApiErrors(ErrorCode.AGENT_EXISTS, ErrorCode.SERVICE_UNAVAILABLE)
  create(@Body() dto: CreateAgentsDto): Promise<AgentsCreated> {
    return this.agents.create(dto);
  }

  @Get()
  @ApiOperation({ summary: 'Free, reserved, assigned and total agents' })
  @ApiOkResponse({ type: AgentsViewDoc })
  @ApiErrors(ErrorCode.SERVICE_UNAVAILABLE)
  list(): Promise<AgentsView> {
    return this.agents.list();
  }
}
