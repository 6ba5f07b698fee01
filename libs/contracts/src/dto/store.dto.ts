import { IntField, StringField, UuidField } from './fields';
import { FoodIdField, IdempotencyKeyField, OrderIdField } from './order.dto';

/**
 * The most packets one request may create (POST /foods `packets`, POST /foods/{foodId}/packets
 * `count`): measured to commit in well under 2 s on a loaded 2-core machine holding 10M packets,
 * far inside the gateway's wait (see docs/admin.md). More stock takes several calls, in parallel if need be.
 */
export const MAX_PACKETS_PER_REQUEST = 50_000;

export class ReservePacketDto {
  @OrderIdField()
  orderId: string;

  @FoodIdField()
  foodId: number;
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

/** gateway -> store: add packets, once per Idempotency-Key. */
export class AddPacketsDto extends PacketCountDto {
  @FoodIdField()
  foodId: number;

  /** The client's Idempotency-Key, or one the gateway minted for this request: a redelivery never adds twice. */
  @IdempotencyKeyField()
  idempotencyKey: string;
}

export class CreateFoodDto {
  @StringField({ maxLength: 100, description: 'Unique name of the food', example: 'Idli' })
  name: string;

  @IntField({ min: 0, max: MAX_PACKETS_PER_REQUEST, description: 'Packets it starts with', example: 50 })
  packets: number;
}

/** gateway -> store: create the food with its first packets, once per Idempotency-Key (see AddPacketsDto). */
export class CreateFoodCommand extends CreateFoodDto {
  @IdempotencyKeyField()
  idempotencyKey: string;
}

/** Assign exactly the packet the coordinator logged at its commit decision, still reserved for this order. */
export class AssignPacketDto {
  @UuidField()
  orderId: string;

  @IntField({ min: 1, max: Number.MAX_SAFE_INTEGER })
  packetId: number;
}
