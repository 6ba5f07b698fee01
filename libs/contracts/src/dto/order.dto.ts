import { IsInt, IsNotEmpty, IsOptional, IsUUID, Matches, Max, Min } from 'class-validator';

const MAX_ID = 2_147_483_647;

/** An Idempotency-Key: 1 to 100 letters, digits and `_ . : -` (a UUID fits). */
export const IDEMPOTENCY_KEY = /^[A-Za-z0-9_.:-]{1,100}$/;

/** HTTP body of POST /orders. A JSON number only: "1" or true is refused, not converted. */
export class PlaceOrderDto {
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
  @IsNotEmpty()
  @IsUUID()
  orderId: string;
}

export { MAX_ID };
