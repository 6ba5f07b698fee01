import { IsString, Matches } from 'class-validator';
import { ParticipantEnv } from '@app/contracts';

export class StoreEnv extends ParticipantEnv {
  @IsString()
  @Matches(/^[A-Za-z0-9_]+$/, { message: 'STORE_DB_NAME may hold only letters, digits and _' })
  STORE_DB_NAME: string = 'store';
}
