import { DeliveryPattern, HealthReply, OrderPattern, Queue, QueueName, StorePattern } from '@app/contracts';
import { call, clientToken } from '@app/platform';
import { Inject, Injectable } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { GatewayEnv } from '../config/gateway.env';

export type ServiceName = 'order' | 'store' | 'delivery';

/**
 * One service's health as the gateway sees it, in two entries: `<service>` is up when the service
 * answers its health pattern over RabbitMQ on each queue it consumes (store and delivery have an
 * admin queue beside their protocol queue), `<service>_database` when it reports its database up.
 */
@Injectable()
export class ServiceHealthIndicator {
  private readonly targets: Record<ServiceName, { queues: [QueueName, ClientProxy][]; pattern: string }>;

  constructor(
    private readonly indicators: HealthIndicatorService,
    @Inject(clientToken(Queue.ORDER)) order: ClientProxy,
    @Inject(clientToken(Queue.STORE)) store: ClientProxy,
    @Inject(clientToken(Queue.STORE_ADMIN)) storeAdmin: ClientProxy,
    @Inject(clientToken(Queue.DELIVERY)) delivery: ClientProxy,
    @Inject(clientToken(Queue.DELIVERY_ADMIN)) deliveryAdmin: ClientProxy,
    private readonly env: GatewayEnv,
  ) {
    this.targets = {
      order: { queues: [[Queue.ORDER, order]], pattern: OrderPattern.HEALTH },
      store: {
        queues: [
          [Queue.STORE, store],
          [Queue.STORE_ADMIN, storeAdmin],
        ],
        pattern: StorePattern.HEALTH,
      },
      delivery: {
        queues: [
          [Queue.DELIVERY, delivery],
          [Queue.DELIVERY_ADMIN, deliveryAdmin],
        ],
        pattern: DeliveryPattern.HEALTH,
      },
    };
  }

  async check(service: ServiceName): Promise<HealthIndicatorResult> {
    const { queues, pattern } = this.targets[service];
    const reachable = this.indicators.check(service);
    const database = this.indicators.check(`${service}_database`);
    const replies = await Promise.allSettled(
      queues.map(([, client]) => call<HealthReply>(client, pattern, {}, this.env.RPC_TIMEOUT_MS, { expire: true })),
    );
    const failures = replies.flatMap((reply, i) =>
      reply.status === 'rejected' ? [`on queue ${queues[i][0]}, ${(reply.reason as Error).message}`] : [],
    );
    const reply = replies.find((settled) => settled.status === 'fulfilled')?.value;
    const db = !reply
      ? database.down(`unknown: ${service} did not answer`)
      : reply.database === 'up'
        ? database.up()
        : database.down(reply.error ?? 'down');
    return { ...(failures.length > 0 ? reachable.down(failures.join('; ')) : reachable.up()), ...db };
  }
}
