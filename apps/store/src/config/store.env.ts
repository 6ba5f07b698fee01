import { IsInt, IsString, Matches, Max, Min, ValidateBy } from 'class-validator';
import { IsMetricsPort } from '@app/platform';
import { MAX_ID } from '@app/contracts';
import { ParticipantEnv } from '@app/participant';

export class StoreEnv extends ParticipantEnv {
  @IsString()
  @Matches(/^[A-Za-z0-9_]+$/, { message: 'STORE_DB_NAME may hold only letters, digits and _' })
  STORE_DB_NAME: string = 'store';

  /** HTTP port of this service's GET /metrics and GET /health. */
  @IsMetricsPort()
  STORE_METRICS_PORT: number = 3002;

  /**
   * The dark store ids this store service owns (its partition's range in PARTITION_MAP): it creates
   * stores with ids in it, refuses once it is full, and answers STORE_NOT_FOUND for any other id.
   */
  @IsInt()
  @Min(1)
  @Max(MAX_ID)
  STORE_IDS_FROM: number = 1;

  @IsInt()
  @Min(1)
  @Max(MAX_ID)
  @ValidateBy({
    name: 'rangeEndsAfterItStarts',
    validator: {
      validate: (to: number, args) => to >= (args?.object as StoreEnv).STORE_IDS_FROM,
      defaultMessage: () => 'STORE_IDS_TO must be at least STORE_IDS_FROM',
    },
  })
  STORE_IDS_TO: number = MAX_ID;

  /** Whether this store service owns the dark store `storeId`. */
  ownsStore(storeId: number): boolean {
    return storeId >= this.STORE_IDS_FROM && storeId <= this.STORE_IDS_TO;
  }
}
