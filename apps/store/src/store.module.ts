import { StorePattern } from '@app/contracts';
import { EnvModule } from '@app/platform';
import { dataSourceOptions, runMigrations, serviceHealthController } from '@app/database';
import { Module, OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { StoreEnv } from './config/store.env';
import { StoreSchema1763769600000 } from './database/migrations/1763769600000-store-schema';
import { PacketCount1765152000000 } from './database/migrations/1765152000000-packet-count';
import { StockAddition1765152000001 } from './database/migrations/1765152000001-stock-addition';
import { DarkStores1765238400000 } from './database/migrations/1765238400000-dark-stores';
import { Food } from './foods/food.entity';
import { FoodsModule } from './foods/foods.module';
import { Packet } from './packets/packet.entity';
import { PacketsModule } from './packets/packets.module';
import { DarkStore } from './stores/dark-store.entity';
import { StoresModule } from './stores/stores.module';
import { StoresService } from './stores/stores.service';

@Module({
  imports: [
    EnvModule.forRoot(StoreEnv),
    TypeOrmModule.forRootAsync({
      inject: [StoreEnv],
      useFactory: (env: StoreEnv) =>
        dataSourceOptions(
          env,
          env.STORE_DB_NAME,
          [DarkStore, Food, Packet],
          [StoreSchema1763769600000, PacketCount1765152000000, StockAddition1765152000001, DarkStores1765238400000],
        ),
    }),
    StoresModule,
    FoodsModule,
    PacketsModule,
  ],
  controllers: [serviceHealthController('store', StorePattern.HEALTH)],
})
export class StoreModule implements OnModuleInit {
  constructor(
    private readonly dataSource: DataSource,
    private readonly stores: StoresService,
  ) {}

  async onModuleInit(): Promise<void> {
    await runMigrations(this.dataSource, 'store_migrations');
    await this.stores.claimIdRange();
  }
}
