import { Queue } from '@app/contracts';
import { bootstrapService } from '@app/database';
import { StoreEnv } from './config/store.env';
import { StoreModule } from './store.module';

bootstrapService({
  name: 'store',
  module: StoreModule,
  env: StoreEnv,
  queue: Queue.STORE,
  adminQueue: Queue.STORE_ADMIN,
  database: (env) => env.STORE_DB_NAME,
  httpPort: (env) => env.STORE_METRICS_PORT,
});
