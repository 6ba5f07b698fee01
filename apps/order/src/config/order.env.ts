import {
  Equals,
  IsIn,
  IsInt,
  IsString,
  Matches,
  Max,
  Min,
  Validate,
  ValidateIf,
  ValidationArguments,
  ValidatorConstraint,
  ValidatorConstraintInterface,
} from 'class-validator';
import { DEV_ORDER_ID_SECRET, IsMetricsPort, IsSecret } from '@app/platform';
import { DatabaseEnv, highestFloor, RetentionFloor } from '@app/database';

export const FAULT_POINTS = ['', 'after-reserve', 'after-decision', 'after-first-assign'] as const;
export type FaultPoint = Exclude<(typeof FAULT_POINTS)[number], ''>;

/** The longest a live driver goes without a log write: phase 1, or one side's phase-2 retries. */
export function longestStepMs(env: OrderEnv): number {
  const phaseOne = env.CONTENTION_WAIT_MS + 3 * env.RPC_TIMEOUT_MS;
  const phaseTwo = env.PHASE2_ATTEMPTS * env.RPC_TIMEOUT_MS + env.RETRY_BASE_MS * (2 ** (env.PHASE2_ATTEMPTS - 1) - 1);
  return Math.max(phaseOne, phaseTwo);
}

@ValidatorConstraint({ name: 'leaseOutlastsSteps' })
class LeaseOutlastsSteps implements ValidatorConstraintInterface {
  validate(lease: number, args: ValidationArguments): boolean {
    return lease > longestStepMs(args.object as OrderEnv);
  }

  defaultMessage(args: ValidationArguments): string {
    return `LEASE_MS must exceed ${longestStepMs(args.object as OrderEnv)} ms, the longest step between two log writes (CONTENTION_WAIT_MS + 3 x RPC_TIMEOUT_MS, or the phase-2 retries)`;
  }
}

export class OrderEnv extends DatabaseEnv {
  @IsString()
  @Matches(/^[A-Za-z0-9_]+$/, { message: 'ORDER_DB_NAME may hold only letters, digits and _' })
  ORDER_DB_NAME: string = 'orders';

  /**
   * The gateways' ORDER_ID_SECRET: only ids minted under it are ever recorded as lost (see newOrderId).
   * In a partition other than the default store's (PARTITION), the partition's own key derived from
   * it (partitionOrderIdSecret), which the gateways sign that partition's order ids with.
   */
  @IsSecret(DEV_ORDER_ID_SECRET)
  ORDER_ID_SECRET: string = DEV_ORDER_ID_SECRET;

  /** HTTP port of this service's GET /metrics and GET /health. */
  @IsMetricsPort()
  ORDER_METRICS_PORT: number = 3001;

  /** Longest wait for a packet or agent that is reserved by orders still deciding, before refusing. */
  @IsInt()
  @Min(0)
  @Max(60_000)
  CONTENTION_WAIT_MS: number = 3_000;

  /** Tries of each phase-2 call (assign, release) whose outcome stayed unknown, before giving up for now. */
  @IsInt()
  @Min(1)
  @Max(20)
  PHASE2_ATTEMPTS: number = 4;

  /** First backoff between tries; it doubles each time. */
  @IsInt()
  @Min(1)
  @Max(10_000)
  RETRY_BASE_MS: number = 100;

  /**
   * How long the instance driving an order owns it; past that, recovery on any instance takes it
   * over. It must outlast the longest step a live driver takes between two log writes, or recovery
   * would abort orders whose driver is merely waiting.
   */
  @IsInt()
  @Min(1_000)
  @Max(600_000)
  @Validate(LeaseOutlastsSteps)
  LEASE_MS: number = 15_000;

  /**
   * Age (from its id) after which an order the coordinator has never seen counts as lost: looking
   * it up records it NOT_PLACED, and its command, should it still arrive, is refused. Must be at
   * least the gateway's ORDER_WAIT_MS.
   */
  @IsInt()
  @Min(1_000)
  @Max(3_600_000)
  ORDER_LOST_AFTER_MS: number = 60_000;

  /** How often recovery looks for orders whose driver stopped. */
  @IsInt()
  @Min(100)
  @Max(600_000)
  RECOVERY_INTERVAL_MS: number = 2_000;

  /**
   * Tests only: where the coordinator stops (crash) or stalls (pause): after-reserve, once one
   * reservation is held; after-decision, once COMMITTING is logged; after-first-assign, once one
   * side is assigned. Refused in production.
   */
  @IsIn(FAULT_POINTS)
  @ValidateIf((env: OrderEnv) => env.NODE_ENV === 'production')
  @Equals('', { message: 'FAULT_POINT must be empty when NODE_ENV=production' })
  FAULT_POINT: (typeof FAULT_POINTS)[number] = '';

  @IsIn(['crash', 'pause'])
  FAULT_ACTION: 'crash' | 'pause' = 'crash';

  @IsInt()
  @Min(0)
  @Max(600_000)
  FAULT_PAUSE_MS: number = 2_000;

  /**
   * Past this age no driver runs an order's phase 1 any more (its command is refused after
   * ORDER_LOST_AFTER_MS, and phase 1 ends within a lease), so a reserve of it is a late copy: the
   * participants, running the same RETENTION_MS, may forget its barrier row and refuse it. The
   * order service checks it here, where these ages are known.
   */
  override retentionFloor(): RetentionFloor {
    return highestFloor(super.retentionFloor(), {
      ms: this.ORDER_LOST_AFTER_MS + this.LEASE_MS,
      why: 'ORDER_LOST_AFTER_MS + LEASE_MS, the age by which every order has left phase 1',
    });
  }
}
