import { IsInt, Max, Min } from 'class-validator';
import { DatabaseEnv } from '@app/database';

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
}
