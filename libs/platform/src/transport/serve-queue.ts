import { INestApplication } from '@nestjs/common';
import { QUEUE_PATTERNS, QueueName } from '@app/contracts';
import { RabbitEnv, rmqSettings } from '../config/env';
import { AckInterceptor } from './ack.interceptor';
import { ContractErrorFilter } from './contract-error.filter';
import { InFlightMessages } from './in-flight';
import { MessageLogInterceptor } from './message-log.interceptor';
import { ReplySafeServerRMQ } from './reply-safe-server';
import { rmqServerOptions } from './rmq-options';
import { rpcValidationPipe } from './rpc-validation.pipe';

/**
 * Makes `app` a consumer of `queue`, and of `adminQueue` if given: every message validated against
 * its contract DTO, every error answered as `{ code, message }`, logged with its correlation, and
 * acked only once its handler finished. Each queue has its own server and prefetch (RMQ_PREFETCH,
 * RMQ_ADMIN_PREFETCH) and runs only the patterns it carries (QUEUE_PATTERNS), so admin messages
 * queue behind each other, never in front of an order's. Consuming starts with `app.startAllMicroservices()`.
 */
export function serveQueue(app: INestApplication, env: RabbitEnv, queue: QueueName, adminQueue?: QueueName): void {
  const inFlight = new InFlightMessages();
  app.useGlobalPipes(rpcValidationPipe());
  app.useGlobalFilters(new ContractErrorFilter());
  app.useGlobalInterceptors(new MessageLogInterceptor(), new AckInterceptor(inFlight));
  const consume = (name: QueueName, prefetch: number) => {
    const { options } = rmqServerOptions({ ...rmqSettings(env), prefetch }, name);
    const server = new ReplySafeServerRMQ(options, QUEUE_PATTERNS[name], inFlight, env.SHUTDOWN_TIMEOUT_MS);
    app.connectMicroservice({ strategy: server }, { inheritAppConfig: true });
  };
  consume(queue, env.RMQ_PREFETCH);
  if (adminQueue) consume(adminQueue, env.RMQ_ADMIN_PREFETCH);
}
