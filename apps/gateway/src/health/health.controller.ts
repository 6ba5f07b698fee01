import { ErrorCode } from '@app/contracts';
import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheck, HealthCheckResult, HealthCheckService } from '@nestjs/terminus';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../docs/api-errors.decorator';
import { HealthDoc } from '../docs/schemas';
import { ApiError } from '../errors/api-error';
import { ServiceHealthIndicator, ServiceName } from './service-health.indicator';

const SERVICES: ServiceName[] = ['order', 'store', 'delivery'];

@ApiTags('health')
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
  @ApiOperation({ summary: 'Whether order, store and delivery each answer over RabbitMQ and reach their database' })
  @ApiOkResponse({ type: HealthDoc })
  @ApiErrors(ErrorCode.SERVICE_UNAVAILABLE)
  @HealthCheck({ swaggerDocumentation: false })
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
