import { ApiProperty } from '@nestjs/swagger';
import { IsInt, IsNotEmpty, IsString, IsUUID, Max, MaxLength, Min } from 'class-validator';
import { MAX_ID } from './order.dto';

/** The most packets one request may create: one INSERT per batch keeps the request bounded. */
export const MAX_PACKETS_PER_REQUEST = 1_000_000;

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

export class AddPacketsDto extends PacketCountDto {
  @IsInt()
  @Min(1)
  @Max(MAX_ID)
  foodId: number;
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

/** Assign exactly the packet the coordinator logged at its commit decision, still reserved for this order. */
export class AssignPacketDto {
  @IsUUID()
  orderId: string;

  @IsInt()
  @Min(1)
  packetId: number;
}
