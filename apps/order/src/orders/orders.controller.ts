import { OrderPattern, OrderRefDto, OrderView, PlaceOrderCommand } from '@app/contracts';
import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { CoordinatorService } from './coordinator.service';

@Controller()
export class OrdersController {
  constructor(private readonly coordinator: CoordinatorService) {}

  @MessagePattern(OrderPattern.PLACE_ORDER)
  place(@Payload() command: PlaceOrderCommand): Promise<OrderView> {
    return this.coordinator.place(command);
  }

  @MessagePattern(OrderPattern.GET_ORDER)
  get(@Payload() dto: OrderRefDto): Promise<OrderView> {
    return this.coordinator.lookUpOrRecordLost(dto.orderId);
  }

  @MessagePattern(OrderPattern.MARK_DELIVERED)
  markDelivered(@Payload() dto: OrderRefDto): Promise<OrderView> {
    return this.coordinator.markDelivered(dto.orderId);
  }
}
