import { IsString, Matches } from 'class-validator';
import { IsMetricsPort } from '@app/platform';
import { ParticipantEnv } from '@app/participant';

export class StoreEnv extends ParticipantEnv {
  @IsString()
  @Matches(/^[A-Za-z0-9_]+$/, { message: 'STORE_DB_NAME may hold only letters, digits and _' })
  STORE_DB_NAME: string = 'store';

  /** HTTP port of this service's GET /metrics and GET /health. */
  @IsMetricsPort()
  STORE_METRICS_PORT: number = 3002;
}
