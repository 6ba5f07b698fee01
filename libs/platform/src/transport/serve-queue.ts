import { INestApplication } from '@nestjs/common';
import { QueueName } from '@app/contracts';
import { RabbitEnv, rmqSettings } from '../config/env';
import { AckInterceptor } from './ack.interceptor';
import { ContractErrorFilter } from './contract-error.filter';
import { InFlightMessages } from './in-flight';
import { MessageLogInterceptor } from './message-log.interceptor';
import { ReplySafeServerRMQ } from './reply-safe-server';
import { rmqServerOptions } from './rmq-options';
import { rpcValidationPipe } from './rpc-validation.pipe';

/**
 * Makes `app` a consumer of `queue`: every message validated against its contract DTO, every error
 * answered as `{ code, message }`, logged with its correlation, and acked only once its handler
 * finished. Consuming starts with `app.startAllMicroservices()`.
 */
export function serveQueue(app: INestApplication, env: RabbitEnv, queue: QueueName): void {
  const inFlight = new InFlightMessages();
  app.useGlobalPipes(rpcValidationPipe());
  app.useGlobalFilters(new ContractErrorFilter());
  app.useGlobalInterceptors(new MessageLogInterceptor(), new AckInterceptor(inFlight));
  const { options } = rmqServerOptions(rmqSettings(env), queue);
  app.connectMicroservice({ strategy: new ReplySafeServerRMQ(options, inFlight, env.SHUTDOWN_TIMEOUT_MS) }, { inheritAppConfig: true });
}
