import { Module } from '@nestjs/common';
import { ordersThrottlerModule } from '../throttling/orders-throttler';
import { OrdersController } from './orders.controller';
import { OrdersService } from './orders.service';

@Module({
  imports: [ordersThrottlerModule],
  controllers: [OrdersController],
  providers: [OrdersService],
})
export class OrdersModule {}
