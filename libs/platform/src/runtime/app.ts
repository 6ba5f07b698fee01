import { INestApplication, NestApplicationOptions, Logger as NestLogger, Module, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Server } from 'node:http';
import { ClassConstructor } from 'class-transformer';
import { Logger } from 'nestjs-pino';
import { RabbitEnv } from '../config/env';
import pino from 'pino';
import { bootLogger, correlationMiddleware } from '../observability/logging';
import { collectProcessMetrics, httpMetricsMiddleware } from '../observability/metrics';
import { ObservabilityModule } from '../observability/observability.module';

/**
 * Creates one app's Nest application with what every app shares: the pino logger, GET /metrics,
 * a correlation id per HTTP request, and a graceful stop on SIGTERM/SIGINT.
 */
export async function createApp<E extends RabbitEnv, A extends INestApplication = INestApplication>(
  app: string,
  module: Type<unknown>,
  envClass: ClassConstructor<E>,
  env: E,
  options: NestApplicationOptions = {},
): Promise<A> {
  collectProcessMetrics(app);
  @Module({ imports: [module, ObservabilityModule.forApp(app, envClass)] })
  class AppRoot {}
  // abortOnError false: a module that cannot start rejects here (startOrExit logs why and exits)
  // instead of Nest calling process.abort().
  const nest = await NestFactory.create<A>(AppRoot, { ...options, bufferLogs: true, abortOnError: false });
  nest.useLogger(nest.get(Logger));
  // Start-up lines waited for pino; out with them now, not at listen, which may fail and lose them.
  nest.flushLogs();
  nest.use(correlationMiddleware);
  nest.use(httpMetricsMiddleware);
  stopOnSignals(nest, app, env.SHUTDOWN_TIMEOUT_MS);
  return nest;
}

/** Once the app is up: its graceful stop, for when its launcher is gone (see startOrExit). */
let onLauncherGone: (() => void) | undefined;

/**
 * Runs an app's start-up; if it fails for good, says why in one log line like every other line of
 * the app (not a bare stack trace) and exits 1, for a supervisor to restart it.
 */
export function startOrExit(app: string, env: RabbitEnv, start: (logger: pino.Logger) => Promise<unknown>): void {
  const logger = bootLogger(app, env);
  // Started by a launcher over an IPC channel (npm start, the tests, the chaos run): a launcher
  // killed outright (kill -9, a CI timeout) must not leave its apps running, holding their ports
  // and consuming their queues beside the next run's. Before the app is up there is nothing to finish.
  if (process.send) {
    process.once('disconnect', () => {
      if (onLauncherGone) return onLauncherGone();
      logger.warn(`${app}: the launcher is gone before the app was up: exiting`);
      process.exit(1);
    });
  }
  start(logger).catch((err: Error) => {
    logger.fatal({ err }, `${app} could not start: ${err.message}`);
    process.exit(1);
  });
}

/**
 * SIGTERM (or Ctrl-C), or the launcher gone, closes the app: the HTTP server stops accepting and
 * finishes its requests, the RabbitMQ consumer stops and finishes its messages (see
 * ReplySafeServerRMQ), then connections close and the process exits 0. If that takes well past
 * `timeoutMs`, it exits 1; whatever was cut short is redelivered or recovered, as after a crash.
 */
function stopOnSignals(nest: INestApplication, app: string, timeoutMs: number): void {
  const logger = new NestLogger(app);
  let stopping = false;
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    const started = Date.now();
    logger.log(`${why}: stopping`);
    setTimeout(() => {
      logger.error(`Still stopping after ${Date.now() - started} ms; exiting now`);
      process.exit(1);
    }, timeoutMs + 2000).unref();
    // server.close() drops the keep-alive connections idle at that moment only; one that goes idle
    // later (a request or event stream finishing) would hold the close for the keep-alive timeout.
    const server = nest.getHttpServer() as Server;
    const sweep = setInterval(() => server.closeIdleConnections(), 100);
    sweep.unref();
    nest.close().then(
      () => {
        logger.log(`Stopped in ${Date.now() - started} ms`);
        process.exit(0);
      },
      (err: Error) => {
        logger.error(`Stopping failed: ${err.message}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM received'));
  process.once('SIGINT', () => stop('SIGINT received'));
  onLauncherGone = () => stop('the launcher is gone');
}
