import { IsInt, Max, Min } from 'class-validator';
import { DatabaseEnv, highestFloor, RetentionFloor } from '@app/database';

/** Variables of the participants (store, delivery). */
export class ParticipantEnv extends DatabaseEnv {
  /** How long a reservation holds a row before it counts as free again. */
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  RESERVATION_TTL_MS: number = 60_000;

  /** How often expired reservations are swept back to free (I3 allows one interval of lag). */
  @IsInt()
  @Min(100)
  @Max(600_000)
  SWEEP_INTERVAL_MS: number = 5_000;

  /**
   * By then every reservation an order made here has expired and been swept (I3): a pruned barrier
   * row never belongs to an order that still holds a reservation. The ages that make an order's
   * phase 1 over for good (ORDER_LOST_AFTER_MS + LEASE_MS) are the order service's to check.
   */
  override retentionFloor(): RetentionFloor {
    return highestFloor(super.retentionFloor(), {
      ms: this.RESERVATION_TTL_MS + this.SWEEP_INTERVAL_MS,
      why: 'RESERVATION_TTL_MS + SWEEP_INTERVAL_MS, past which an order holds no reservation here any more',
    });
  }
}
