import { IsInt, IsString, Matches, Max, Min } from 'class-validator';
import { DatabaseEnv } from '@app/contracts';

export class DeliveryEnv extends DatabaseEnv {
  @IsString()
  @Matches(/^[A-Za-z0-9_]+$/, { message: 'DELIVERY_DB_NAME may hold only letters, digits and _' })
  DELIVERY_DB_NAME: string = 'delivery';

  /** How long a reservation holds an agent before it counts as free again. */
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
