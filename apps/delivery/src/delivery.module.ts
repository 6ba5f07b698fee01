import { DeliveryPattern } from '@app/contracts';
import { EnvModule } from '@app/platform';
import { dataSourceOptions, runMigrations, serviceHealthController } from '@app/database';
import { Module, OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Agent } from './agents/agent.entity';
import { AgentsModule } from './agents/agents.module';
import { DeliveryEnv } from './config/delivery.env';
import { DeliverySchema1763769600000 } from './database/migrations/1763769600000-delivery-schema';
import { AgentHoldAttempt1764720000000 } from './database/migrations/1764720000000-agent-hold-attempt';
import { AgentCount1765152000000 } from './database/migrations/1765152000000-agent-count';
import { AgentAddition1765152000001 } from './database/migrations/1765152000001-agent-addition';
import { AgentStores1765238400000 } from './database/migrations/1765238400000-agent-stores';

@Module({
  imports: [
    EnvModule.forRoot(DeliveryEnv),
    TypeOrmModule.forRootAsync({
      inject: [DeliveryEnv],
      useFactory: (env: DeliveryEnv) =>
        dataSourceOptions(
          env,
          env.DELIVERY_DB_NAME,
          [Agent],
          [
            DeliverySchema1763769600000,
            AgentHoldAttempt1764720000000,
            AgentCount1765152000000,
            AgentAddition1765152000001,
            AgentStores1765238400000,
          ],
        ),
    }),
    AgentsModule,
  ],
  controllers: [serviceHealthController('delivery', DeliveryPattern.HEALTH)],
})
export class DeliveryModule implements OnModuleInit {
  constructor(private readonly dataSource: DataSource) {}

  onModuleInit(): Promise<void> {
    return runMigrations(this.dataSource, 'delivery_migrations');
  }
}
