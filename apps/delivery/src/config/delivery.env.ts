import { IsString, Matches } from 'class-validator';
import { IsMetricsPort } from '@app/platform';
import { ParticipantEnv } from '@app/participant';

export class DeliveryEnv extends ParticipantEnv {
  @IsString()
  @Matches(/^[A-Za-z0-9_]+$/, { message: 'DELIVERY_DB_NAME may hold only letters, digits and _' })
  DELIVERY_DB_NAME: string = 'delivery';

  /** HTTP port of this service's GET /metrics and GET /health. */
  @IsMetricsPort()
  DELIVERY_METRICS_PORT: number = 3003;
}
