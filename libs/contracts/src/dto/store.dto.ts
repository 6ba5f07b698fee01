import { IntArrayField, IntField, ObjectArrayField, StringField, UuidField } from './fields';
import { FoodIdField, IdempotencyKeyField, MAX_ID, OrderIdField, StoreIdField } from './ids';

/**
 * The most packets one request may create (POST /foods `packets`, POST /stores/{storeId}/packets
 * and POST /foods/{foodId}/packets `count`): measured to commit in well under 2 s on a loaded 2-core
 * machine holding 10M packets, far inside the gateway's wait (see docs/admin.md). More stock takes
 * several calls, in parallel if need be.
 */
export const MAX_PACKETS_PER_REQUEST = 50_000;

/** The dark store every single-food request (POST /orders {foodId}, /foods, /agents) acts on; every database has it. */
export const DEFAULT_STORE_ID = 1;

/** The most lines of one cart, and the most packets of one food one cart may ask for. */
export const MAX_CART_LINES = 20;
export const MAX_LINE_QUANTITY = 50;

/** The path of /stores/{storeId}. */
export class StoreRefDto {
  @StoreIdField('The dark store, as answered by POST /stores')
  storeId: number;
}

/** A partition's name in PARTITION_MAP: 1 to 32 letters, digits, `_` and `-`. */
export const PARTITION_NAME = /^[A-Za-z0-9_-]{1,32}$/;

/** The name of a dark store: unique within its partition. */
const StoreNameField = () => StringField({ maxLength: 100, description: 'Unique name of the dark store', example: 'Koramangala' });

/** HTTP body of POST /stores. */
export class CreateStoreDto {
  @StoreNameField()
  name: string;

  @StringField({
    optional: true,
    maxLength: 32,
    pattern: PARTITION_NAME,
    description:
      'The partition of PARTITION_MAP the store is created in, which allocates its id within its range; absent: the partition of the default dark store',
    example: 'south',
  })
  partition?: string;
}

/** gateway -> store: create the dark store, once per Idempotency-Key (see AddPacketsDto), with an id of this store service's range. */
export class CreateStoreCommand {
  @StoreNameField()
  name: string;

  @IdempotencyKeyField()
  idempotencyKey: string;
}

/** gateway -> store: every dark store with its stock, or only `storeId` (STORE_NOT_FOUND if none has it). */
export class ListStoresDto {
  @IntField({ optional: true, min: 1, max: MAX_ID, description: 'Only this dark store' })
  storeId?: number;
}

/** The path of /foods/{foodId}/packets. */
export class FoodRefDto {
  @FoodIdField('The food, as answered by POST /foods')
  foodId: number;
}

export class PacketCountDto {
  @IntField({ min: 1, max: MAX_PACKETS_PER_REQUEST, description: 'Packets to add', example: 10 })
  count: number;
}

/** HTTP body of POST /stores/{storeId}/packets. */
export class StorePacketsDto extends PacketCountDto {
  @FoodIdField('The food the packets are of (from the catalogue, POST /foods)')
  foodId: number;
}

/** gateway -> store: add packets of a food to a dark store, once per Idempotency-Key: a redelivery never adds twice. */
export class AddPacketsDto extends StorePacketsDto {
  @StoreIdField()
  storeId: number;

  /** The client's Idempotency-Key, or one the gateway minted for this request. */
  @IdempotencyKeyField()
  idempotencyKey: string;
}

/** HTTP body of POST /foods: a food of the catalogue, with its first packets in the default store. */
export class CreateFoodDto {
  @StringField({ maxLength: 100, description: 'Unique name of the food', example: 'Idli' })
  name: string;

  @IntField({ min: 0, max: MAX_PACKETS_PER_REQUEST, description: 'Packets it starts with, in the default dark store', example: 50 })
  packets: number;
}

/** gateway -> store: create the food with its first packets, once per Idempotency-Key (see AddPacketsDto). */
export class CreateFoodCommand extends CreateFoodDto {
  @IdempotencyKeyField()
  idempotencyKey: string;

  /**
   * The id the food must have: the catalogue is one for every partition, so the gateway creates a
   * food in the default dark store's partition, which allocates its id, then in every other one under that id.
   */
  @IntField({ optional: true, min: 1, max: MAX_ID, description: 'The id the food takes (absent: the next free one)' })
  id?: number;
}

/** One line of a cart: `quantity` packets of a food. */
export class CartLineDto {
  @FoodIdField()
  foodId: number;

  @IntField({ min: 1, max: MAX_LINE_QUANTITY, description: 'How many packets of the food', example: 2 })
  quantity: number;
}

/** The lines of a cart: at least one, at most MAX_CART_LINES, each food once. */
export const CartLinesField = () =>
  ObjectArrayField({
    type: CartLineDto,
    maxItems: MAX_CART_LINES,
    uniqueBy: 'foodId',
    description: `The cart: packets of up to ${MAX_CART_LINES} foods, each food once`,
    example: [
      { foodId: 1, quantity: 2 },
      { foodId: 2, quantity: 1 },
    ],
  });

/** Phase 1 at the store: hold every packet of the cart, of its store, for the order. */
export class ReserveCartDto {
  @OrderIdField()
  orderId: string;

  @StoreIdField()
  storeId: number;

  @CartLinesField()
  items: CartLineDto[];
}

/** The most packets one order holds: every line at its largest. */
export const MAX_ORDER_PACKETS = MAX_CART_LINES * MAX_LINE_QUANTITY;

/** Assign exactly the packets the coordinator logged at its commit decision, all still reserved for this order. */
export class AssignPacketsDto {
  @UuidField()
  orderId: string;

  @IntArrayField({ maxItems: MAX_ORDER_PACKETS, min: 1, max: Number.MAX_SAFE_INTEGER })
  packetIds: number[];
}
