import { IntField, StringField, UuidField } from './fields';
import { FoodIdField } from './order.dto';

/** The most packets one request may create: one INSERT per batch keeps the request bounded. */
export const MAX_PACKETS_PER_REQUEST = 1_000_000;

export class ReservePacketDto {
  @UuidField()
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

export class AddPacketsDto extends PacketCountDto {
  @FoodIdField()
  foodId: number;
}

export class CreateFoodDto {
  @StringField({ maxLength: 100, description: 'Unique name of the food', example: 'Idli' })
  name: string;

  @IntField({ min: 0, max: MAX_PACKETS_PER_REQUEST, description: 'Packets it starts with', example: 50 })
  packets: number;
}

/** Assign exactly the packet the coordinator logged at its commit decision, still reserved for this order. */
export class AssignPacketDto {
  @UuidField()
  orderId: string;

  @IntField({ min: 1, max: Number.MAX_SAFE_INTEGER })
  packetId: number;
}
