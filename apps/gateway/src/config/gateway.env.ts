import {
  IsInt,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  Validate,
  ValidationArguments,
  ValidatorConstraint,
  ValidatorConstraintInterface,
} from 'class-validator';
import { RabbitEnv } from '@app/contracts';

/** The admin key of `.env.example` and of `npm start` on a development machine; refused in production. */
export const DEV_ADMIN_API_KEY = 'dev-admin-key-change-me';

@ValidatorConstraint({ name: 'ownKeyInProduction' })
class OwnKeyInProduction implements ValidatorConstraintInterface {
  validate(key: string, args: ValidationArguments): boolean {
    return (args.object as GatewayEnv).NODE_ENV !== 'production' || key !== DEV_ADMIN_API_KEY;
  }

  defaultMessage(): string {
    return `ADMIN_API_KEY must be set to a secret of your own when NODE_ENV=production (empty or the .env.example value "${DEV_ADMIN_API_KEY}" is refused)`;
  }
}

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

  /** The `x-api-key` that POST /foods, /foods/:id/packets and /agents require. */
  @IsString()
  @MinLength(16)
  @Matches(/^[\x21-\x7e]+$/, { message: 'ADMIN_API_KEY may hold only printable ASCII characters, no spaces' })
  @Validate(OwnKeyInProduction)
  ADMIN_API_KEY: string = DEV_ADMIN_API_KEY;

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
}
