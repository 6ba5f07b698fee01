import 'reflect-metadata';

// What only the database-owning services use is in ./service (`@app/contracts/service`).

export * from './queues';
export * from './patterns';
export * from './errors';
export * from './order-state';
export * from './order-id';
export * from './replies';
export * from './dto/order.dto';
export * from './dto/store.dto';
export * from './dto/delivery.dto';
export * from './transport/contract.exception';
export * from './transport/rmq-options';
export * from './transport/rpc-call';
export * from './transport/rpc-validation.pipe';
export * from './transport/contract-error.filter';
export * from './transport/ack.interceptor';
export * from './config/env';
export * from './config/env.module';
export * from './runtime/periodic-task';
export * from './transport/clients';
export * from './transport/reply-safe-server';
export * from './transport/in-flight';
export * from './transport/message-log.interceptor';
export * from './observability/correlation';
export * from './observability/logging';
export * from './observability/metrics';
export * from './observability/rpc-metrics';
export * from './observability/observability.module';
export * from './runtime/app';
