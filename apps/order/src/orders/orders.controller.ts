import {
  BatchReply,
  ContractError,
  ErrorCode,
  isContractError,
  OrderPattern,
  OrderRefDto,
  OrderView,
  Outcome,
  PlaceOrderCommand,
  PlaceOrdersDto,
} from '@app/contracts';
import { ContractException, forEachRequest } from '@app/platform';
import { Controller, Logger } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { CoordinatorService } from './coordinator.service';

@Controller()
export class OrdersController {
  private readonly logger = new Logger('Coordinator');

  constructor(private readonly coordinator: CoordinatorService) {}

  @MessagePattern(OrderPattern.PLACE_ORDER)
  place(@Payload() command: PlaceOrderCommand): Promise<OrderView> {
    return this.coordinator.place(command);
  }

  /**
   * The gateway's batch: every order runs as it would alone, side by side, each under its own
   * correlation; the coordinator's own calls batch them again on each hop. One order's failure is
   * its own outcome (the gateway answers it "pending", as a lost reply), never its batch's.
   */
  @MessagePattern(OrderPattern.PLACE_ORDERS)
  async placeMany(@Payload() batch: PlaceOrdersDto): Promise<BatchReply<OrderView>> {
    const outcomes = await Promise.all(
      forEachRequest(batch, async (command): Promise<Outcome<OrderView>> => {
        try {
          return { ok: await this.coordinator.place(command) };
        } catch (err) {
          return { error: this.contractErrorOf(err) };
        }
      }),
    );
    return { outcomes };
  }

  @MessagePattern(OrderPattern.GET_ORDER)
  get(@Payload() dto: OrderRefDto): Promise<OrderView> {
    return this.coordinator.lookUpOrRecordLost(dto.orderId);
  }

  @MessagePattern(OrderPattern.MARK_DELIVERED)
  markDelivered(@Payload() dto: OrderRefDto): Promise<OrderView> {
    return this.coordinator.markDelivered(dto.orderId);
  }

  private contractErrorOf(err: unknown): ContractError {
    if (err instanceof ContractException) return err.getError() as ContractError;
    if (isContractError(err)) return { code: err.code, message: err.message, ...(err.details && { details: err.details }) };
    this.logger.error({ err }, 'placing an order failed');
    return { code: ErrorCode.INTERNAL, message: 'Internal error; the order is settled by recovery' };
  }
}
