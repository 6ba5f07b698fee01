import { IsInt, Max, Min } from 'class-validator';
import { RabbitEnv } from '@app/contracts';

export class GatewayEnv extends RabbitEnv {
  @IsInt()
  @Min(1)
  @Max(65535)
  PORT: number = 3000;

  /**
   * How long POST /orders waits for the outcome before answering 202 "pending". The coordinator
   * refuses to start an order that reaches it after this, so a late command never places an order.
   */
  @IsInt()
  @Min(1_000)
  @Max(600_000)
  ORDER_WAIT_MS: number = 15_000;
}
