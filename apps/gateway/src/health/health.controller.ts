import { ErrorCode } from '@app/contracts';
import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheck, HealthCheckResult, HealthCheckService } from '@nestjs/terminus';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../docs/api-errors.decorator';
import { HealthDoc } from '../docs/schemas';
import { ApiError } from '../errors/api-error';
import { Partitions } from '../partitions/partitions';
import { ServiceHealthIndicator, ServiceName } from './service-health.indicator';

const SERVICES: ServiceName[] = ['order', 'store', 'delivery'];

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly services: ServiceHealthIndicator,
    private readonly partitions: Partitions,
  ) {}

  /**
   * 200 when order, store and delivery each answer over RabbitMQ and reach their database; 503
   * otherwise, naming what is down in `message` and, with the reason, in `error` (terminus's format).
   * With partitions, every partition's three, each entry named `<partition>.<service>`.
   */
  @Get()
  @ApiOperation({
    summary:
      'Whether order, store and delivery each answer over RabbitMQ and reach their database (with partitions, those of each partition)',
  })
  @ApiOkResponse({ type: HealthDoc })
  @ApiErrors(ErrorCode.SERVICE_UNAVAILABLE)
  @HealthCheck({ swaggerDocumentation: false })
  async check(): Promise<HealthCheckResult> {
    try {
      const { configured, all } = this.partitions;
      return await this.health.check(
        all.flatMap((route) =>
          SERVICES.map((service) => () => this.services.check(route, service, configured ? `${route.name}.${service}` : service)),
        ),
      );
    } catch (err) {
      if (!(err instanceof ServiceUnavailableException)) throw err;
      const result = err.getResponse() as HealthCheckResult;
      throw new ApiError(ErrorCode.SERVICE_UNAVAILABLE, `Down: ${Object.keys(result.error ?? {}).join(', ')}`, { ...result });
    }
  }
}
