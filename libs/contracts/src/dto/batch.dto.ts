import { MAX_BATCH } from '../batch';
import { AssignAgentDto, ReserveAgentDto } from './delivery.dto';
import { ObjectArrayField, StringArrayField } from './fields';
import { OrderRefDto, PlaceOrderCommand } from './order.dto';
import { AssignPacketsDto, ReserveCartDto } from './store.dto';

/*
 * Batch messages (see batch.ts): many orders' requests of one kind in one message, each validated
 * as it is alone. An order may appear twice (a retry that caught up with its first try): the
 * service runs the requests in order, and each is idempotent.
 */
const requests = <T extends object>(type: new () => T, what: string) =>
  ObjectArrayField({ type, maxItems: MAX_BATCH, description: `${what}, one per order, answered in the same order` });

/** What every batch message carries beside its requests. */
export class BatchDto {
  /** The correlation id each request was sent under, by position: the service logs each request under its own. */
  @StringArrayField({ optional: true, maxItems: MAX_BATCH, maxLength: 100 })
  correlationIds?: string[];
}

export class PlaceOrdersDto extends BatchDto {
  @requests(PlaceOrderCommand, 'Orders to place')
  requests: PlaceOrderCommand[];
}

export class ReserveCartsDto extends BatchDto {
  @requests(ReserveCartDto, 'Carts to hold')
  requests: ReserveCartDto[];
}

export class AssignPacketsBatchDto extends BatchDto {
  @requests(AssignPacketsDto, 'Packets to assign')
  requests: AssignPacketsDto[];
}

export class ReserveAgentsDto extends BatchDto {
  @requests(ReserveAgentDto, 'Agents to hold')
  requests: ReserveAgentDto[];
}

export class AssignAgentsDto extends BatchDto {
  @requests(AssignAgentDto, 'Agents to assign')
  requests: AssignAgentDto[];
}

/** Release at the store or at delivery: every row the order holds. */
export class ReleaseBatchDto extends BatchDto {
  @requests(OrderRefDto, 'Orders to release')
  requests: OrderRefDto[];
}
