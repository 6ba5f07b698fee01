import { Type } from 'class-transformer';
import { IsInt, IsNotEmpty, IsUUID, Max, Min } from 'class-validator';

const MAX_ID = 2_147_483_647;

/** HTTP body of POST /orders. */
export class PlaceOrderDto {
  @Type(() => Number)
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
}

/** Any message that names one order: get, assign, release, yield, complete. */
export class OrderRefDto {
  @IsNotEmpty()
  @IsUUID()
  orderId: string;
}

export { MAX_ID };
