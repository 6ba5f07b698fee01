import { Module } from '@nestjs/common';
import { StoresModule } from '../stores/stores.module';
import { AgentsController } from './agents.controller';

@Module({ imports: [StoresModule], controllers: [AgentsController] })
export class AgentsModule {}
