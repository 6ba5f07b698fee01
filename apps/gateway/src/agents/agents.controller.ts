import { AgentsCreated, AgentsView, CreateAgentsDto } from '@app/contracts';
import { Body, Controller, Get, Post } from '@nestjs/common';
import { AdminOnly } from '../auth/admin-key.guard';
import { AgentsService } from './agents.service';

@Controller('agents')
export class AgentsController {
  constructor(private readonly agents: AgentsService) {}

  @Post()
  @AdminOnly()
  create(@Body() dto: CreateAgentsDto): Promise<AgentsCreated> {
    return this.agents.create(dto);
  }

  @Get()
  list(): Promise<AgentsView> {
    return this.agents.list();
  }
}
