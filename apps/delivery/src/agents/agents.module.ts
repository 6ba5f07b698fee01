import { Module } from '@nestjs/common';
import { AgentSweeper } from './agent-sweeper.service';
import { AgentsController } from './agents.controller';
import { AgentsService } from './agents.service';

@Module({ controllers: [AgentsController], providers: [AgentsService, AgentSweeper] })
export class AgentsModule {}
