import 'reflect-metadata';

/**
 * What every app runs on: configuration validated at boot, the RabbitMQ transport (clients, the
 * services' server, calls with timeouts), start-up and shutdown, logging, metrics.
 */
export * from './config/env';
export * from './config/partition-map';
export * from './config/env.module';
export * from './transport/contract.exception';
export * from './transport/rmq-options';
export * from './transport/rpc-call';
export * from './transport/rpc-validation.pipe';
export * from './transport/contract-error.filter';
export * from './transport/ack.interceptor';
export * from './transport/clients';
export * from './transport/reply-safe-server';
export * from './transport/in-flight';
export * from './transport/message-log.interceptor';
export * from './transport/serve-queue';
export * from './batching/batcher';
export * from './runtime/periodic-task';
export * from './runtime/app';
export * from './observability/correlation';
export * from './observability/logging';
export * from './observability/metrics';
export * from './observability/rpc-metrics';
export * from './observability/observability.module';
