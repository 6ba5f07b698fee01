import { HealthReply, OrderPattern } from '@app/contracts';
import { Controller } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { DataSource } from 'typeorm';

@Controller()
export class HealthController {
  constructor(private readonly dataSource: DataSource) {}

  /** Answers only when this service consumes its queue and its database answers. */
  @MessagePattern(OrderPattern.HEALTH)
  async health(): Promise<HealthReply> {
    await this.dataSource.query('SELECT 1');
    return { service: 'order', status: 'ok' };
  }
}
