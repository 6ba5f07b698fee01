import { IntField, UuidField } from './fields';
import { FoodIdField, IdempotencyKeyField, OrderIdField, StoreIdField } from './ids';
import { CartLineDto, CartLinesField } from './store.dto';

/** HTTP body of POST /orders, the single-food form: one packet of the food from the default dark store. */
export class PlaceOrderDto {
  @FoodIdField('The food to order: one packet of it, from the default dark store')
  foodId: number;
}

/** HTTP body of POST /orders, the cart form: every packet of the cart and one agent, all of one dark store. */
export class PlaceCartDto {
  @StoreIdField('The dark store that serves the order: its packets and one of its agents')
  storeId: number;

  @CartLinesField()
  items: CartLineDto[];
}

/** gateway -> order: place this cart; the gateway mints the id so it can answer "pending" with it. */
export class PlaceOrderCommand extends PlaceCartDto {
  @OrderIdField()
  orderId: string;

  /** Epoch ms after which the gateway no longer waits: a command that arrives later is refused, not started. */
  @IntField({ min: 0, max: Number.MAX_SAFE_INTEGER })
  deadline: number;

  /** The client's Idempotency-Key: every command with this key answers with the first one's order. */
  @IdempotencyKeyField({ optional: true })
  idempotencyKey?: string;
}

/** Any message that names one order: get, assign, release, yield, complete; and the path of /orders/{orderId}. */
export class OrderRefDto {
  @UuidField({ description: 'The order id answered by POST /orders', example: '019aa9e0-5c1e-7a2b-9c3d-4e5f6a7b8c9d' })
  orderId: string;
}

export const MAX_RECENT_ORDERS = 100;

/** gateway -> order: the latest `limit` orders, and the outcomes of the orders minted in the last `windowMs`. */
export class RecentOrdersDto {
  @IntField({ min: 1, max: MAX_RECENT_ORDERS })
  limit: number;

  @IntField({ min: 1_000, max: 600_000 })
  windowMs: number;
}
