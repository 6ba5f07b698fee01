import { DeliveryPattern, HealthReply, OrderPattern, Queue, QueueName, StorePattern } from '@app/contracts';
import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { GatewayEnv } from '../config/gateway.env';
import { PartitionRoute } from '../partitions/partitions';

export type ServiceName = 'order' | 'store' | 'delivery';

/** The queues each service consumes (store and delivery have an admin queue beside their protocol queue), and its health pattern. */
const TARGETS: Record<ServiceName, { queues: QueueName[]; pattern: string }> = {
  order: { queues: [Queue.ORDER], pattern: OrderPattern.HEALTH },
  store: { queues: [Queue.STORE, Queue.STORE_ADMIN], pattern: StorePattern.HEALTH },
  delivery: { queues: [Queue.DELIVERY, Queue.DELIVERY_ADMIN], pattern: DeliveryPattern.HEALTH },
};

/**
 * One service's health as the gateway sees it, in two entries: `<service>` is up when the service
 * answers its health pattern over RabbitMQ on each queue it consumes, `<service>_database` when it
 * reports its database up. With partitions, each entry is named after its partition too
 * (`south.store`), so GET /health shows each partition.
 */
@Injectable()
export class ServiceHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly env: GatewayEnv,
  ) {}

  async check(route: PartitionRoute, service: ServiceName, key: string = service): Promise<HealthIndicatorResult> {
    const { queues, pattern } = TARGETS[service];
    const reachable = this.indicators.check(key);
    const database = this.indicators.check(`${key}_database`);
    const replies = await Promise.allSettled(
      queues.map((queue) => route.call<HealthReply>(queue, pattern, {}, this.env.RPC_TIMEOUT_MS, { expire: true })),
    );
    const failures = replies.flatMap((reply, i) =>
      reply.status === 'rejected' ? [`on queue ${queues[i]}, ${(reply.reason as Error).message}`] : [],
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
