import { OrderRefDto, OrderView, PlaceOrderDto } from '@app/contracts';
import { Body, Controller, Get, HttpCode, HttpStatus, Param, Post, Res } from '@nestjs/common';
import { Response } from 'express';
import { ThrottleOrders } from '../throttling/orders-throttler';
import { IdempotencyKey } from './idempotency-key';
import { OrdersService } from './orders.service';

@Controller('orders')
export class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  @Post()
  @ThrottleOrders()
  async place(
    @Body() dto: PlaceOrderDto,
    @IdempotencyKey() idempotencyKey: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    const answer = await this.orders.place(dto.foodId, idempotencyKey);
    res.status(answer.status);
    return answer.body;
  }

  @Get(':orderId')
  get(@Param() { orderId }: OrderRefDto): Promise<OrderView> {
    return this.orders.get(orderId);
  }

  @Post(':orderId/delivered')
  @HttpCode(HttpStatus.OK)
  markDelivered(@Param() { orderId }: OrderRefDto): Promise<OrderView> {
    return this.orders.markDelivered(orderId);
  }
}
