import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckResult, HealthCheckService } from '@nestjs/terminus';
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
   * otherwise, with `error` naming each entry that is down and why (terminus's format).
   */
  @Get()
  @HealthCheck()
  check(): Promise<HealthCheckResult> {
    return this.health.check(SERVICES.map((service) => () => this.services.check(service)));
  }
}
