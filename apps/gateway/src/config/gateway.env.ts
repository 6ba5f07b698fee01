import { DEV_ORDER_ID_SECRET, IsSecret, RabbitEnv } from '@app/platform';
import { IsInt, Max, Min } from 'class-validator';

/** The admin key of `.env.example` and of `npm start` on a development machine; refused in production. */
export const DEV_ADMIN_API_KEY = 'dev-admin-key-change-me';

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

  /**
   * Order batches the gateway keeps in flight to the order service (BATCH_IN_FLIGHT is for the
   * other hops): while they are, the orders that arrive form the next batch. A batch gives up its
   * place once each of its orders is settled or waiting for stock, so an order waiting out
   * contention holds up no other, and once it has heard nothing for RPC_TIMEOUT_MS, so a paused
   * order instance holds up the others for no longer. One makes the largest batches and the least
   * CPU per order (paired A/B in docs/performance.md); with several order instances, one in flight
   * keeps only one of them busy at a time, so set it to at least the number of order instances.
   */
  @IsInt()
  @Min(1)
  @Max(64)
  ORDER_BATCHES_IN_FLIGHT: number = 1;

  /** The `x-api-key` that POST /foods, /foods/:id/packets and /agents require. */
  @IsSecret(DEV_ADMIN_API_KEY)
  ADMIN_API_KEY: string = DEV_ADMIN_API_KEY;

  /** Signs the order ids this gateway mints (see newOrderId); the order service must have the same. */
  @IsSecret(DEV_ORDER_ID_SECRET)
  ORDER_ID_SECRET: string = DEV_ORDER_ID_SECRET;

  /** POST /orders each client (IP address) may send per THROTTLE_ORDERS_TTL_MS; more get 429. */
  @IsInt()
  @Min(1)
  @Max(10_000_000)
  THROTTLE_ORDERS_LIMIT: number = 60;

  @IsInt()
  @Min(1_000)
  @Max(3_600_000)
  THROTTLE_ORDERS_TTL_MS: number = 60_000;

  /** Largest request body accepted; a larger one gets 413 before it is parsed. */
  @IsInt()
  @Min(1_024)
  @Max(10_485_760)
  BODY_LIMIT_BYTES: number = 131_072;

  /** The gateway routes each request to the partition of its dark store or its order (see Partitions). */
  override partitionRole(): 'router' {
    return 'router';
  }
}
