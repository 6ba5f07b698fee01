import { Controller, Get, Logger, ServiceUnavailableException, Type } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { DataSource } from 'typeorm';
import { HealthReply } from '@app/contracts';

/**
 * The health endpoints of a database-owning service. Over RabbitMQ (for the gateway's /health):
 * answering at all shows the service consumes its queue, and the reply says whether its database
 * answers. Over HTTP GET /health (for an orchestrator probing this instance): 200 or 503.
 */
export function serviceHealthController(service: string, pattern: string): Type<unknown> {
  @Controller()
  class ServiceHealthController {
    private readonly logger = new Logger('Health');

    constructor(private readonly dataSource: DataSource) {}

    @MessagePattern(pattern)
    health(): Promise<HealthReply> {
      return this.check();
    }

    @Get('health')
    async httpHealth(): Promise<HealthReply> {
      const reply = await this.check();
      if (reply.database !== 'up') throw new ServiceUnavailableException(reply);
      return reply;
    }

    private async check(): Promise<HealthReply> {
      try {
        await this.dataSource.query('SELECT 1');
        return { service, status: 'ok', database: 'up' };
      } catch (err) {
        // The reply reaches the gateway's public /health: the driver's code only (e.g.
        // ECONNREFUSED, ER_ACCESS_DENIED_ERROR); the full message, with user and host, stays here.
        this.logger.warn(`Database check failed: ${(err as Error).message}`);
        return { service, status: 'ok', database: 'down', error: (err as { code?: string }).code ?? 'the database does not answer' };
      }
    }
  }
  return ServiceHealthController;
}
