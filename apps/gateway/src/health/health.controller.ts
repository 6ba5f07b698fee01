import { DeliveryPattern, HealthReply, OrderPattern, Queue, StorePattern, call, clientToken } from '@app/contracts';
import { Controller, Get, Inject, ServiceUnavailableException } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { GatewayEnv } from '../config/gateway.env';

@Controller('health')
export class HealthController {
  private readonly checks: [string, ClientProxy, string][];

  constructor(
    @Inject(clientToken(Queue.ORDER)) order: ClientProxy,
    @Inject(clientToken(Queue.STORE)) store: ClientProxy,
    @Inject(clientToken(Queue.DELIVERY)) delivery: ClientProxy,
    private readonly env: GatewayEnv,
  ) {
    this.checks = [
      ['order', order, OrderPattern.HEALTH],
      ['store', store, StorePattern.HEALTH],
      ['delivery', delivery, DeliveryPattern.HEALTH],
    ];
  }

  /** 200 when every service answers over RabbitMQ and reaches its database; 503 naming the ones that do not. */
  @Get()
  async health() {
    const results = await Promise.all(
      this.checks.map(([name, client, pattern]) =>
        call<HealthReply>(client, pattern, {}, this.env.RPC_TIMEOUT_MS).then(
          () => [name, 'up'] as const,
          (err: Error) => [name, `down: ${err.message}`] as const,
        ),
      ),
    );
    const services = Object.fromEntries(results);
    if (results.some(([, status]) => status !== 'up')) {
      throw new ServiceUnavailableException({ code: 'SERVICE_UNAVAILABLE', message: 'Some services are down', services });
    }
    return { status: 'ok', services };
  }
}
