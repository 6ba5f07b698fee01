import { ErrorCode } from '@app/contracts';
import { ExecutionContext, Injectable, UseGuards } from '@nestjs/common';
import { ThrottlerGuard, ThrottlerLimitDetail, ThrottlerModule } from '@nestjs/throttler';
import { GatewayEnv } from '../config/gateway.env';
import { ApiError } from '../errors/api-error';

/**
 * The rate limit of POST /orders per client IP. Counters live in this gateway's memory: with N
 * gateway instances behind a balancer a client gets up to N times the limit.
 */
export const ordersThrottlerModule = ThrottlerModule.forRootAsync({
  inject: [GatewayEnv],
  // The throttler named "default" answers with a plain Retry-After header (in seconds).
  useFactory: (env: GatewayEnv) => [{ name: 'default', ttl: env.THROTTLE_ORDERS_TTL_MS, limit: env.THROTTLE_ORDERS_LIMIT }],
});

@Injectable()
export class OrdersThrottlerGuard extends ThrottlerGuard {
  protected override async throwThrottlingException(_context: ExecutionContext, limit: ThrottlerLimitDetail): Promise<void> {
    throw new ApiError(
      ErrorCode.TOO_MANY_REQUESTS,
      `At most ${limit.limit} orders per ${limit.ttl / 1000} s from one client; retry after ${limit.timeToBlockExpire} s`,
    );
  }
}

/** Rate-limits an endpoint per client with THROTTLE_ORDERS_LIMIT / THROTTLE_ORDERS_TTL_MS. */
export const ThrottleOrders = () => UseGuards(OrdersThrottlerGuard);
