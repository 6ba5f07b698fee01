import { QueueName } from '@app/contracts';
import { createApp, loadEnvOrExit, serveQueue, startOrExit } from '@app/platform';
import { Logger, Type } from '@nestjs/common';
import { ClassConstructor } from 'class-transformer';
import { ensureDatabase, retryAtBoot } from './database';
import { DatabaseEnv } from './database.env';

export interface ServiceDefinition<E extends DatabaseEnv> {
  name: string;
  module: Type<unknown>;
  env: ClassConstructor<E>;
  queue: QueueName;
  /** A participant's second queue, for listings and admin writes (see serveQueue). */
  adminQueue?: QueueName;
  database: (env: E) => string;
  /** The port of the service's own HTTP server, which serves only GET /metrics and GET /health. */
  httpPort: (env: E) => number;
}

/**
 * Starts one database-owning service: validates its config, makes sure its database exists, runs
 * the Nest app (migrations run in its module's init), serves /metrics and /health over HTTP, then
 * starts consuming its queues. A database out of reach at start-up is waited for (retryAtBoot), one
 * log line per try; a start-up that fails for good says why in one line and exits 1.
 */
export function bootstrapService<E extends DatabaseEnv>(service: ServiceDefinition<E>): void {
  const env = loadEnvOrExit(service.env, service.name);
  startOrExit(service.name, env, async (bootLogger) => {
    await retryAtBoot(`create database ${service.database(env)}`, bootLogger, () => ensureDatabase(env, service.database(env)));
    const app = await createApp(service.name, service.module, service.env, env);
    serveQueue(app, env, service.queue, service.adminQueue);
    await app.listen(service.httpPort(env), env.HOST);
    await app.startAllMicroservices();
    const logger = new Logger(service.name);
    logger.log(`${service.name} serves /metrics and /health on ${await app.getUrl()}`);
    for (const queue of [service.queue, service.adminQueue].filter((name) => name !== undefined))
      logger.log(`${service.name} is consuming queue ${env.QUEUE_PREFIX}${queue}`);
  });
}
