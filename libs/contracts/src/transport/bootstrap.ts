import { INestApplication, Logger, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClassConstructor } from 'class-transformer';
import { DatabaseEnv, loadEnvOrExit, rmqSettings } from '../config/env';
import { ensureDatabase } from '../database/database';
import { QueueName } from '../queues';
import { AckInterceptor } from './ack.interceptor';
import { ContractErrorFilter } from './contract-error.filter';
import { ReplySafeServerRMQ } from './reply-safe-server';
import { rmqServerOptions } from './rmq-options';
import { rpcValidationPipe } from './rpc-validation.pipe';

export interface ServiceDefinition<E extends DatabaseEnv> {
  name: string;
  module: Type<unknown>;
  env: ClassConstructor<E>;
  queue: QueueName;
  database: (env: E) => string;
}

/**
 * Starts one database-owning service: validates its config, makes sure its database exists, runs
 * the Nest app (migrations run in its module's init), then starts consuming its queue.
 */
export async function bootstrapService<E extends DatabaseEnv>(service: ServiceDefinition<E>): Promise<INestApplication> {
  const env = loadEnvOrExit(service.env, service.name);
  await ensureDatabase(env, service.database(env));
  const app = await NestFactory.create(service.module, { logger: ['log', 'error', 'warn'] });
  app.enableShutdownHooks();
  app.useGlobalPipes(rpcValidationPipe());
  app.useGlobalFilters(new ContractErrorFilter());
  app.useGlobalInterceptors(new AckInterceptor());
  const { options } = rmqServerOptions(rmqSettings(env), service.queue);
  app.connectMicroservice({ strategy: new ReplySafeServerRMQ(options!) }, { inheritAppConfig: true });
  await app.init();
  await app.startAllMicroservices();
  new Logger(service.name).log(`${service.name} is consuming queue ${env.QUEUE_PREFIX}${service.queue}`);
  return app;
}
