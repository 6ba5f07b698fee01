import { IntField, StringField, UuidField } from './fields';

const MAX_ID = 2_147_483_647;

/** The food of an order, a packet reservation or a stock top-up; the same rule wherever it travels. */
export const FoodIdField = (description = 'The food') => IntField({ min: 1, max: MAX_ID, description, example: 1 });

/**
 * The id of an order a command or a reserve may start: a UUIDv7, as the gateways mint them, so its
 * first 48 bits say when (orderIdMintedAt). The coordinator refuses a command past
 * ORDER_LOST_AFTER_MS and a participant a reserve past RETENTION_MS by that time, and retention
 * prunes barrier and log rows by it; an id of another version would carry no time to read.
 */
export const OrderIdField = () => UuidField({ version: 7 });

/** Idempotency-Key: 1 to 100 letters, digits and `_ . : -` (a UUID fits). */
export const IDEMPOTENCY_KEY_MAX_LENGTH = 100;
export const IDEMPOTENCY_KEY = new RegExp(`^[A-Za-z0-9_.:-]{1,${IDEMPOTENCY_KEY_MAX_LENGTH}}$`);

/** A command's Idempotency-Key, as the gateway passes it on (the client's, or one it minted). */
export const IdempotencyKeyField = ({ optional = false } = {}) =>
  StringField({ optional, maxLength: IDEMPOTENCY_KEY_MAX_LENGTH, pattern: IDEMPOTENCY_KEY });

/** HTTP body of POST /orders. A JSON number only: "1" or true is refused, not converted. */
export class PlaceOrderDto {
  @FoodIdField('The food to order')
  foodId: number;
}

/** gateway -> order: place this order; the gateway mints the id so it can answer "pending" with it. */
export class PlaceOrderCommand extends PlaceOrderDto {
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

export { MAX_ID };
