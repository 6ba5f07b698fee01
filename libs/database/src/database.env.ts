import {
  IsInt,
  IsString,
  Max,
  Min,
  Validate,
  ValidationArguments,
  ValidatorConstraint,
  ValidatorConstraintInterface,
} from 'class-validator';
import { RabbitEnv } from '@app/platform';

const DAY_MS = 86_400_000;

/**
 * The shortest RETENTION_MS production accepts. A participant cannot read the order service's
 * settings, so this floor is what makes its refusal of old reserves safe: it is past the longest
 * ORDER_LOST_AFTER_MS + LEASE_MS the order service accepts (70 minutes), and the rest of the day
 * covers clocks that disagree.
 */
export const PRODUCTION_MIN_RETENTION_MS = DAY_MS;

/** An age RETENTION_MS must reach, and why. */
export interface RetentionFloor {
  ms: number;
  why: string;
}

/** The highest of several floors: RETENTION_MS must reach every one. */
export function highestFloor(...floors: RetentionFloor[]): RetentionFloor {
  return floors.reduce((high, floor) => (floor.ms > high.ms ? floor : high));
}

@ValidatorConstraint({ name: 'retentionOutlastsOrders' })
class RetentionOutlastsOrders implements ValidatorConstraintInterface {
  validate(retention: number, args: ValidationArguments): boolean {
    return retention >= (args.object as DatabaseEnv).retentionFloor().ms;
  }

  defaultMessage(args: ValidationArguments): string {
    const { ms, why } = (args.object as DatabaseEnv).retentionFloor();
    return `RETENTION_MS must be at least ${ms} ms: ${why}`;
  }
}

/** Variables of the apps that own a database (store, delivery, order). */
export class DatabaseEnv extends RabbitEnv {
  @IsString()
  DB_HOST: string = '127.0.0.1';

  @IsInt()
  @Min(1)
  @Max(65535)
  DB_PORT: number = 3306;

  @IsString()
  DB_USER: string = 'root';

  @IsString()
  DB_PASSWORD: string = '';

  @IsInt()
  @Min(1)
  @Max(200)
  DB_POOL_SIZE: number = 10;

  /**
   * Age of an order (read from its UUIDv7 id) past which its protocol rows are pruned: the
   * participants' barrier rows (and their reserves of it refused), the coordinator's order_log rows
   * of settled orders. Orders, packets and agents themselves are kept. Each app checks it against
   * the ages it knows (retentionFloor).
   */
  @IsInt()
  @Min(1_000)
  @Max(3650 * DAY_MS)
  @Validate(RetentionOutlastsOrders)
  RETENTION_MS: number = 7 * DAY_MS;

  /** How often a service prunes the rows past RETENTION_MS. */
  @IsInt()
  @Min(100)
  @Max(DAY_MS)
  PRUNE_INTERVAL_MS: number = 60_000;

  /** The most rows one pruning statement deletes: each is one short statement, its locks held only as long. */
  @IsInt()
  @Min(1)
  @Max(100_000)
  PRUNE_BATCH: number = 1_000;

  /** Pause between two pruning statements of one run, so a backlog never takes the database from orders. */
  @IsInt()
  @Min(0)
  @Max(10_000)
  PRUNE_PAUSE_MS: number = 100;

  /** The age RETENTION_MS must reach in this app; an app that knows more ages (OrderEnv, ParticipantEnv) adds them. */
  retentionFloor(): RetentionFloor {
    return this.NODE_ENV === 'production'
      ? { ms: PRODUCTION_MIN_RETENTION_MS, why: 'a day in production, so that it outlasts any order service settings' }
      : { ms: 0, why: 'any age outside production' };
  }
}
