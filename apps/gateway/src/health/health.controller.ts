import { ErrorCode } from '@app/contracts';
import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheck, HealthCheckResult, HealthCheckService } from '@nestjs/terminus';
import { ApiError } from '../errors/api-error';
import { ServiceHealthIndicator, ServiceName } from './service-health.indicator';

const SERVICES: ServiceName[] = ['order', 'store', 'delivery'];

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly services: ServiceHealthIndicator,
  ) {}

  /**
   * 200 when order, store and delivery each answer over RabbitMQ and reach their database; 503
   * otherwise, naming what is down in `message` and, with the reason, in `error` (terminus's format).
   */
  @Get()
  @HealthCheck()
  async check(): Promise<HealthCheckResult> {
    try {
      return await this.health.check(SERVICES.map((service) => () => this.services.check(service)));
    } catch (err) {
      if (!(err instanceof ServiceUnavailableException)) throw err;
      const result = err.getResponse() as HealthCheckResult;
      throw new ApiError(ErrorCode.SERVICE_UNAVAILABLE, `Down: ${Object.keys(result.error ?? {}).join(', ')}`, { ...result });
    }
  }
}
