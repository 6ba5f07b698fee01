import {
  BatchProgress,
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
import { Observable } from 'rxjs';
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
   * its own outcome (the gateway answers it "pending", as a lost reply), never its batch's. Outcomes
   * are replied as they settle, with the orders that begin to wait for stock (BatchProgress): an
   * order contended in one dark store for up to CONTENTION_WAIT_MS holds up no order of its batch,
   * and the gateway sends its next batch without waiting for it. What settles in one turn of the
   * event loop goes in one reply (the orders of a batch mostly decide together). The message is
   * acked after the last reply.
   */
  @MessagePattern(OrderPattern.PLACE_ORDERS)
  placeMany(@Payload() batch: PlaceOrdersDto): Observable<BatchProgress<OrderView>> {
    return new Observable((subscriber) => {
      let unsettled = batch.requests.length;
      if (unsettled === 0) {
        subscriber.next({ settled: [], waiting: [] });
        return subscriber.complete();
      }
      let next: BatchProgress<OrderView> | undefined;
      const report = (add: (progress: BatchProgress<OrderView>) => void) => {
        if (!next) {
          const progress: BatchProgress<OrderView> = (next = { settled: [], waiting: [] });
          setImmediate(() => {
            next = undefined;
            subscriber.next(progress);
            if (unsettled === 0) subscriber.complete();
          });
        }
        add(next);
      };
      const orders = forEachRequest(batch, async (command, index) => {
        let outcome: Outcome<OrderView>;
        try {
          outcome = { ok: await this.coordinator.place(command, () => report((progress) => progress.waiting.push(index))) };
        } catch (err) {
          outcome = { error: this.contractErrorOf(err) };
        }
        unsettled--;
        report((progress) => progress.settled.push({ index, outcome }));
      });
      // Each order's failure is its outcome; only a defect here could reject, and it fails the stream.
      Promise.all(orders).catch((err: unknown) => subscriber.error(err));
    });
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
