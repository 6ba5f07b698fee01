import { ApiProperty } from '@nestjs/swagger';
import { IsInt, IsNotEmpty, IsOptional, IsUUID, Matches, Max, Min } from 'class-validator';

const MAX_ID = 2_147_483_647;

/** An Idempotency-Key: 1 to 100 letters, digits and `_ . : -` (a UUID fits). */
export const IDEMPOTENCY_KEY = /^[A-Za-z0-9_.:-]{1,100}$/;

/** HTTP body of POST /orders. A JSON number only: "1" or true is refused, not converted. */
export class PlaceOrderDto {
  @ApiProperty({ description: 'The food to order', minimum: 1, maximum: MAX_ID, example: 1 })
  @IsInt()
  @Min(1)
  @Max(MAX_ID)
  foodId: number;
}

/** gateway -> order: place this order; the gateway mints the id so it can answer "pending" with it. */
export class PlaceOrderCommand extends PlaceOrderDto {
  @IsUUID()
  orderId: string;

  /** Epoch ms after which the gateway no longer waits: a command that arrives later is refused, not started. */
  @IsInt()
  @Min(0)
  deadline: number;

  /** The client's Idempotency-Key: every command with this key answers with the first one's order. */
  @IsOptional()
  @Matches(IDEMPOTENCY_KEY)
  idempotencyKey?: string;
}

/** Any message that names one order: get, assign, release, yield, complete. */
export class OrderRefDto {
  @ApiProperty({ format: 'uuid', description: 'The order id answered by POST /orders', example: '019aa9e0-5c1e-7a2b-9c3d-4e5f6a7b8c9d' })
  @IsNotEmpty()
  @IsUUID()
  orderId: string;
}

export const MAX_RECENT_ORDERS = 100;

/** gateway -> order: the latest `limit` orders, and the outcomes of the orders minted in the last `windowMs`. */
export class RecentOrdersDto {
  @IsInt()
  @Min(1)
  @Max(MAX_RECENT_ORDERS)
  limit: number;

  @IsInt()
  @Min(1_000)
  @Max(600_000)
  windowMs: number;
}

export { MAX_ID };
