import { Queue } from '@app/contracts';
import { bootstrapService } from '@app/database';
import { DeliveryEnv } from './config/delivery.env';
import { DeliveryModule } from './delivery.module';

bootstrapService({
  name: 'delivery',
  module: DeliveryModule,
  env: DeliveryEnv,
  queue: Queue.DELIVERY,
  adminQueue: Queue.DELIVERY_ADMIN,
  database: (env) => env.DELIVERY_DB_NAME,
  httpPort: (env) => env.DELIVERY_METRICS_PORT,
});
