import { DEFAULT_STORE_ID, PlaceCartDto, PlaceOrderDto } from '@app/contracts';
import { Controller, Post } from '@nestjs/common';
import { OneOfBody } from '../../apps/gateway/src/errors/validation';
import { OrdersService, PlacedOrder } from './orders.service';

@Controller('orders')
export class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  /** The gateway's POST /orders body, both forms, validated by the gateway's own DTOs and pipe. */
  @Post()
  place(
    @OneOfBody([PlaceCartDto, PlaceOrderDto], (body) =>
      'foodId' in body && !('storeId' in body || 'items' in body) ? PlaceOrderDto : PlaceCartDto,
    )
    dto: PlaceCartDto | PlaceOrderDto,
  ): Promise<PlacedOrder> {
    return 'foodId' in dto
      ? this.orders.place(DEFAULT_STORE_ID, [{ foodId: dto.foodId, quantity: 1 }])
      : this.orders.place(dto.storeId, dto.items);
  }
}
