import { Queue } from '@app/contracts';
import { bootstrapService } from '@app/database';
import { OrderEnv } from './config/order.env';
import { OrderServiceModule } from './order-service.module';

bootstrapService({
  name: 'order',
  module: OrderServiceModule,
  env: OrderEnv,
  queue: Queue.ORDER,
  database: (env) => env.ORDER_DB_NAME,
  httpPort: (env) => env.ORDER_METRICS_PORT,
});
