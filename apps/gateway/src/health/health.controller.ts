import { DeliveryPattern, ErrorCode, HealthReply, OrderPattern, Queue, StorePattern, call, clientToken } from '@app/contracts';
import { Controller, Get, Inject, ServiceUnavailableException } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../docs/api-errors.decorator';
import { HealthDoc } from '../docs/schemas';
import { GatewayEnv } from '../config/gateway.env';

@ApiTags('health')
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
  @ApiOperation({ summary: 'Whether order, store and delivery each answer over RabbitMQ and reach their database' })
  @ApiOkResponse({ type: HealthDoc })
  @ApiErrors(ErrorCode.SERVICE_UNAVAILABLE)
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
      throw new ServiceUnavailableException({ code: ErrorCode.SERVICE_UNAVAILABLE, message: 'Some services are down', services });
    }
    return { status: 'ok', services };
  }
}
