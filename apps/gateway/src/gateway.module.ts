import { EnvModule } from '@app/platform';
import { Module } from '@nestjs/common';
import { AgentsModule } from './agents/agents.module';
import { GatewayEnv } from './config/gateway.env';
import { FoodsModule } from './foods/foods.module';
import { HealthModule } from './health/health.module';
import { LiveModule } from './live/live.module';
import { OrdersModule } from './orders/orders.module';
import { PartitionsModule } from './partitions/partitions.module';
import { StoresModule } from './stores/stores.module';

@Module({
  imports: [
    EnvModule.forRoot(GatewayEnv),
    PartitionsModule,
    OrdersModule,
    StoresModule,
    FoodsModule,
    AgentsModule,
    HealthModule,
    LiveModule,
  ],
})
export class GatewayModule {}
