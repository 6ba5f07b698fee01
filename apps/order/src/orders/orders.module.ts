import { Queue } from '@app/contracts';
import { serviceClients } from '@app/platform';
import { Module } from '@nestjs/common';
import { OrderEnv } from '../config/order.env';
import { CoordinatorService } from './coordinator.service';
import { FaultPoints } from './fault-points';
import { IdempotencyKeys } from './idempotency-keys.service';
import { OrderJournal } from './order-journal.service';
import { OrderTelemetry } from './order-telemetry';
import { OrdersController } from './orders.controller';
import { Participants } from './participants';
import { RecoveryService } from './recovery.service';

@Module({
  imports: [serviceClients(OrderEnv, [Queue.STORE, Queue.DELIVERY])],
  controllers: [OrdersController],
  providers: [CoordinatorService, OrderJournal, OrderTelemetry, IdempotencyKeys, Participants, FaultPoints, RecoveryService],
})
export class OrdersModule {}
