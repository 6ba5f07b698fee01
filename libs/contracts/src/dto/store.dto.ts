import { ApiProperty } from '@nestjs/swagger';
import { IsInt, IsNotEmpty, IsString, IsUUID, Matches, Max, MaxLength, Min } from 'class-validator';
import { IDEMPOTENCY_KEY, MAX_ID } from './order.dto';

/**
 * The most packets one request may create (POST /foods `packets`, POST /foods/{foodId}/packets
 * `count`): measured to commit in well under 2 s on a loaded 2-core machine holding 10M packets,
 * far inside the gateway's wait (see docs/admin.md). More stock takes several calls, in parallel if need be.
 */
export const MAX_PACKETS_PER_REQUEST = 50_000;

export class ReservePacketDto {
  @IsUUID()
  orderId: string;

  @IsInt()
  @Min(1)
  @Max(MAX_ID)
  foodId: number;
}

export class PacketCountDto {
  @ApiProperty({ description: 'Packets to add', minimum: 1, maximum: MAX_PACKETS_PER_REQUEST, example: 10 })
  @IsInt()
  @Min(1)
  @Max(MAX_PACKETS_PER_REQUEST)
  count: number;
}

/** gateway -> store: add packets, once per Idempotency-Key. */
export class AddPacketsDto extends PacketCountDto {
  @IsInt()
  @Min(1)
  @Max(MAX_ID)
  foodId: number;

  /** The client's Idempotency-Key, or one the gateway minted for this request: a redelivery never adds twice. */
  @Matches(IDEMPOTENCY_KEY)
  idempotencyKey: string;
}

export class CreateFoodDto {
  @ApiProperty({ description: 'Unique name of the food', maxLength: 100, example: 'Idli' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  name: string;

  @ApiProperty({ description: 'Packets it starts with', minimum: 0, maximum: MAX_PACKETS_PER_REQUEST, example: 50 })
  @IsInt()
  @Min(0)
  @Max(MAX_PACKETS_PER_REQUEST)
  packets: number;
}

/** gateway -> store: create the food with its first packets, once per Idempotency-Key (see AddPacketsDto). */
export class CreateFoodCommand extends CreateFoodDto {
  @Matches(IDEMPOTENCY_KEY)
  idempotencyKey: string;
}

/** Assign exactly the packet the coordinator logged at its commit decision, still reserved for this order. */
export class AssignPacketDto {
  @IsUUID()
  orderId: string;

  @IsInt()
  @Min(1)
  packetId: number;
}
