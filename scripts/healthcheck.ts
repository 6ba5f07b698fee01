import { DeliveryPattern, OrderPattern, Queue, QueueName, StorePattern } from '@app/contracts';
import { call, RabbitEnv, rmqClientOptions, rmqSettings, validateEnv } from '@app/platform';
import { Logger } from '@nestjs/common';
import { ClientProxyFactory } from '@nestjs/microservices';
import { GatewayEnv } from '../apps/gateway/src/config/gateway.env';

/**
 * The container healthcheck (docker-compose.yml): `node dist/scripts/healthcheck.js [app]`, the app
 * defaulting to $APP. Exits 0 when the app answers, 1 otherwise:
 *  - gateway: its own GET /health, 200 only when order, store and delivery all answer;
 *  - store, delivery, order: the service's health message over each RabbitMQ queue it consumes,
 *    answered only by an instance that consumes the queue and reaches its database. With several
 *    instances any one of them may answer: the check says the service works, a dead container exits on its own.
 */
const BACKENDS: Record<string, [QueueName[], string]> = {
  store: [[Queue.STORE, Queue.STORE_ADMIN], StorePattern.HEALTH],
  delivery: [[Queue.DELIVERY, Queue.DELIVERY_ADMIN], DeliveryPattern.HEALTH],
  order: [[Queue.ORDER], OrderPattern.HEALTH],
};

async function check(app: string): Promise<void> {
  if (app === 'gateway') {
    const env = validateEnv(GatewayEnv)(process.env);
    const res = await fetch(`http://127.0.0.1:${env.PORT}/health`, { signal: AbortSignal.timeout(env.RPC_TIMEOUT_MS * 2) });
    if (!res.ok) throw new Error(`GET /health answered ${res.status} ${await res.text()}`);
    return;
  }
  const backend = BACKENDS[app];
  if (!backend) throw new Error(`Unknown app "${app}": gateway, ${Object.keys(BACKENDS).join(', ')}`);
  const env = validateEnv(RabbitEnv)(process.env);
  const [queues, pattern] = backend;
  const clients = queues.map((queue) => ClientProxyFactory.create(rmqClientOptions(rmqSettings(env), queue)));
  try {
    await Promise.all(clients.map((client) => call(client, pattern, {}, env.RPC_TIMEOUT_MS, { expire: true })));
  } finally {
    await Promise.all(clients.map((client) => client.close()));
  }
}

// Only failures belong in the container's health log.
Logger.overrideLogger(['error']);

check(process.argv[2] ?? process.env.APP ?? '').then(
  () => process.exit(0),
  (err: Error) => {
    console.error(`unhealthy: ${err.message}`);
    process.exit(1);
  },
);
