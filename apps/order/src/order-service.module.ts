import { OrderPattern } from '@app/contracts';
import { EnvModule } from '@app/platform';
import { dataSourceOptions, runMigrations, serviceHealthController } from '@app/database';
import { Module, OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ActivityModule } from './activity/activity.module';
import { OrderEnv } from './config/order.env';
import { OrderSchema1763769600000 } from './database/migrations/1763769600000-order-schema';
import { OrderLogTriggers1763856000000 } from './database/migrations/1763856000000-order-log-triggers';
import { OrderIdempotencyKey1764028800000 } from './database/migrations/1764028800000-order-idempotency-key';
import { OrderLeaseOwner1764720000000 } from './database/migrations/1764720000000-order-lease-owner';
import { OrderCarts1765238400000 } from './database/migrations/1765238400000-order-carts';
import { OrderLog } from './orders/order-log.entity';
import { Order } from './orders/order.entity';
import { OrdersModule } from './orders/orders.module';

/** The order service: the coordinator (OrdersModule), the live page's reads (ActivityModule), its database and health. */
@Module({
  imports: [
    EnvModule.forRoot(OrderEnv),
    TypeOrmModule.forRootAsync({
      inject: [OrderEnv],
      useFactory: (env: OrderEnv) =>
        dataSourceOptions(
          env,
          env.ORDER_DB_NAME,
          [Order, OrderLog],
          [
            OrderSchema1763769600000,
            OrderLogTriggers1763856000000,
            OrderIdempotencyKey1764028800000,
            OrderLeaseOwner1764720000000,
            OrderCarts1765238400000,
          ],
        ),
    }),
    OrdersModule,
    ActivityModule,
  ],
  controllers: [serviceHealthController('order', OrderPattern.HEALTH)],
})
export class OrderServiceModule implements OnModuleInit {
  constructor(private readonly dataSource: DataSource) {}

  onModuleInit(): Promise<void> {
    return runMigrations(this.dataSource, 'order_migrations');
  }
}
