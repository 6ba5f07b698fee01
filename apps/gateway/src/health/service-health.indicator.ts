import { DeliveryPattern, HealthReply, OrderPattern, Queue, StorePattern } from '@app/contracts';
import { call, clientToken } from '@app/platform';
import { Inject, Injectable } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { GatewayEnv } from '../config/gateway.env';

export type ServiceName = 'order' | 'store' | 'delivery';

/**
 * One service's health as the gateway sees it, in two entries: `<service>` is up when the service
 * answers its health pattern over RabbitMQ, `<service>_database` when it reports its database up.
 */
@Injectable()
export class ServiceHealthIndicator {
  private readonly targets: Record<ServiceName, [ClientProxy, string]>;

  constructor(
    private readonly indicators: HealthIndicatorService,
    @Inject(clientToken(Queue.ORDER)) order: ClientProxy,
    @Inject(clientToken(Queue.STORE)) store: ClientProxy,
    @Inject(clientToken(Queue.DELIVERY)) delivery: ClientProxy,
    private readonly env: GatewayEnv,
  ) {
    this.targets = {
      order: [order, OrderPattern.HEALTH],
      store: [store, StorePattern.HEALTH],
      delivery: [delivery, DeliveryPattern.HEALTH],
    };
  }

  async check(service: ServiceName): Promise<HealthIndicatorResult> {
    const [client, pattern] = this.targets[service];
    const reachable = this.indicators.check(service);
    const database = this.indicators.check(`${service}_database`);
    let reply: HealthReply;
    try {
      reply = await call<HealthReply>(client, pattern, {}, this.env.RPC_TIMEOUT_MS, { expire: true });
    } catch (err) {
      return { ...reachable.down((err as Error).message), ...database.down(`unknown: ${service} did not answer`) };
    }
    const db = reply.database === 'up' ? database.up() : database.down(reply.error ?? 'down');
    return { ...reachable.up(), ...db };
  }
}
