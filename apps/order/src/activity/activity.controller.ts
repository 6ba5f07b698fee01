import { OrderPattern, RecentOrders, RecentOrdersDto } from '@app/contracts';
import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { ActivityService } from './activity.service';

@Controller()
export class ActivityController {
  constructor(private readonly activity: ActivityService) {}

  @MessagePattern(OrderPattern.RECENT_ORDERS)
  recent(@Payload() dto: RecentOrdersDto): Promise<RecentOrders> {
    return this.activity.recent(dto);
  }
}
