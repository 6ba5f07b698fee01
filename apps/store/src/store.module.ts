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
import { Food } from './foods/food.entity';
import { FoodsModule } from './foods/foods.module';
import { Packet } from './packets/packet.entity';
import { PacketsModule } from './packets/packets.module';

@Module({
  imports: [
    EnvModule.forRoot(StoreEnv),
    TypeOrmModule.forRootAsync({
      inject: [StoreEnv],
      useFactory: (env: StoreEnv) =>
        dataSourceOptions(
          env,
          env.STORE_DB_NAME,
          [Food, Packet],
          [StoreSchema1763769600000, PacketCount1765152000000, StockAddition1765152000001],
        ),
    }),
    FoodsModule,
    PacketsModule,
  ],
  controllers: [serviceHealthController('store', StorePattern.HEALTH)],
})
export class StoreModule implements OnModuleInit {
  constructor(private readonly dataSource: DataSource) {}

  onModuleInit(): Promise<void> {
    return runMigrations(this.dataSource, 'store_migrations');
  }
}
