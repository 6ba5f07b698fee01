import { INestApplication, Logger } from '@nestjs/common';
import { Type } from '@nestjs/common';
import { ClassConstructor } from 'class-transformer';
import { DatabaseEnv, loadEnvOrExit, rmqSettings } from '../config/env';
import { ensureDatabase } from '../database/database';
import { QueueName } from '../queues';
import { createApp } from '../runtime/app';
import { AckInterceptor } from './ack.interceptor';
import { ContractErrorFilter } from './contract-error.filter';
import { InFlightMessages } from './in-flight';
import { MessageLogInterceptor } from './message-log.interceptor';
import { ReplySafeServerRMQ } from './reply-safe-server';
import { rmqServerOptions } from './rmq-options';
import { rpcValidationPipe } from './rpc-validation.pipe';

export interface ServiceDefinition<E extends DatabaseEnv> {
  name: string;
  module: Type<unknown>;
  env: ClassConstructor<E>;
  queue: QueueName;
  database: (env: E) => string;
  /** The port of the service's own HTTP server, which serves only GET /metrics and GET /health. */
  httpPort: (env: E) => number;
}

/**
 * Starts one database-owning service: validates its config, makes sure its database exists, runs
 * the Nest app (migrations run in its module's init), serves /metrics and /health over HTTP, then
 * starts consuming its queue.
 */
export async function bootstrapService<E extends DatabaseEnv>(service: ServiceDefinition<E>): Promise<INestApplication> {
  const env = loadEnvOrExit(service.env, service.name);
  await ensureDatabase(env, service.database(env));
  const app = await createApp(service.name, service.module, service.env, env);
  const inFlight = new InFlightMessages();
  app.useGlobalPipes(rpcValidationPipe());
  app.useGlobalFilters(new ContractErrorFilter());
  app.useGlobalInterceptors(new MessageLogInterceptor(), new AckInterceptor(inFlight));
  const { options } = rmqServerOptions(rmqSettings(env), service.queue);
  app.connectMicroservice({ strategy: new ReplySafeServerRMQ(options, inFlight, env.SHUTDOWN_TIMEOUT_MS) }, { inheritAppConfig: true });
  await app.listen(service.httpPort(env), env.HOST);
  await app.startAllMicroservices();
  const logger = new Logger(service.name);
  logger.log(`${service.name} serves /metrics and /health on ${await app.getUrl()}`);
  logger.log(`${service.name} is consuming queue ${env.QUEUE_PREFIX}${service.queue}`);
  return app;
}
