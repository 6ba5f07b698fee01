import { DEFAULT_STORE_ID, ErrorCode, NotPlacedReason, OrderRefDto, OrderView, PlaceCartDto, PlaceOrderDto } from '@app/contracts';
import { Controller, Get, HttpCode, HttpStatus, Param, Post, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Response } from 'express';
import { AdminOnly } from '../auth/admin-key.guard';
import { ApiErrors } from '../docs/api-errors.decorator';
import { OrderViewDoc, PendingLookUpDoc, PendingOrderDoc, PlacedOrderDoc } from '../docs/schemas';
import { IdempotencyKey } from '../http/idempotency-key';
import { OneOfBody } from '../errors/validation';
import { ThrottleOrders } from '../throttling/orders-throttler';
import { LookUpAnswer, OrdersService } from './orders.service';

const ORDER_RETRIES = 'Retries with the same key return the same order and outcome, never a second order';

@ApiTags('orders')
@Controller('orders')
export class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  @Post()
  @ApiOperation({
    summary: 'Place an order: every packet of the cart and one delivery agent, all of one dark store, or nothing',
    description:
      'The cart form `{ storeId, items: [{ foodId, quantity }] }`, or the single-food form `{ foodId }`: one packet of the food from the default dark store.',
  })
  @ApiCreatedResponse({ type: PlacedOrderDoc, description: 'Order Placed: the packets of the cart and an agent are assigned to it' })
  @ApiAcceptedResponse({
    type: PendingOrderDoc,
    description: 'Outcome not known within ORDER_WAIT_MS; GET /orders/{orderId} shows it once settled',
  })
  @ApiErrors(
    ErrorCode.IDEMPOTENCY_KEY_REUSED,
    ErrorCode.TOO_MANY_REQUESTS,
    ErrorCode.STORE_NOT_FOUND,
    ErrorCode.UNKNOWN_FOOD,
    ErrorCode.OUT_OF_STOCK,
    ErrorCode.NO_AGENT,
    NotPlacedReason.RESERVATION_EXPIRED,
    ErrorCode.SERVICE_UNAVAILABLE,
    NotPlacedReason.REQUEST_EXPIRED,
    NotPlacedReason.COORDINATOR_RECOVERY,
  )
  @ThrottleOrders()
  async place(
    @OneOfBody([PlaceCartDto, PlaceOrderDto], (body) =>
      'foodId' in body && !('storeId' in body || 'items' in body) ? PlaceOrderDto : PlaceCartDto,
    )
    dto: PlaceCartDto | PlaceOrderDto,
    @IdempotencyKey(ORDER_RETRIES) idempotencyKey: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    const cart = 'foodId' in dto ? { storeId: DEFAULT_STORE_ID, items: [{ foodId: dto.foodId, quantity: 1 }] } : dto;
    const answer = await this.orders.place(cart, idempotencyKey);
    res.status(answer.status);
    return answer.body;
  }

  @Get(':orderId')
  @ApiOperation({ summary: 'An order: state, reason, its dark store, cart and packets, its agent, and its log' })
  @ApiOkResponse({ type: OrderViewDoc })
  @ApiAcceptedResponse({
    type: PendingLookUpDoc,
    description:
      'An order a gateway minted less than ORDER_LOST_AFTER_MS ago whose request has not reached the order service yet: still pending (past that, a look-up records it NOT_PLACED, REQUEST_LOST)',
  })
  @ApiErrors(ErrorCode.ORDER_NOT_FOUND, ErrorCode.SERVICE_UNAVAILABLE)
  async get(@Param() { orderId }: OrderRefDto, @Res({ passthrough: true }) res: Response): Promise<LookUpAnswer['body']> {
    const answer = await this.orders.lookUp(orderId);
    res.status(answer.status);
    return answer.body;
  }

  @Post(':orderId/delivered')
  @AdminOnly()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'The food was delivered: frees the order’s agent' })
  @ApiOkResponse({
    type: OrderViewDoc,
    description: 'The order, DELIVERED (or DELIVERING while delivery cannot be reached; recovery finishes it)',
  })
  @ApiErrors(ErrorCode.ORDER_NOT_FOUND, ErrorCode.ORDER_NOT_DELIVERABLE, ErrorCode.SERVICE_UNAVAILABLE)
  markDelivered(@Param() { orderId }: OrderRefDto): Promise<OrderView> {
    return this.orders.markDelivered(orderId);
  }
}
