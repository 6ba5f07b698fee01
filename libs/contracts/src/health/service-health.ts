import { Controller, Get, ServiceUnavailableException, Type } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { DataSource } from 'typeorm';
import { HealthReply } from '../replies';

/**
 * The health endpoints of a database-owning service. Over RabbitMQ (for the gateway's /health):
 * answering at all shows the service consumes its queue, and the reply says whether its database
 * answers. Over HTTP GET /health (for an orchestrator probing this instance): 200 or 503.
 */
export function serviceHealthController(service: string, pattern: string): Type<unknown> {
  @Controller()
  class ServiceHealthController {
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
        return { service, status: 'ok', database: 'down', error: (err as Error).message };
      }
    }
  }
  return ServiceHealthController;
}
