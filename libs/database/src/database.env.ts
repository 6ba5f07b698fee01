import { IsInt, IsString, Max, Min } from 'class-validator';
import { RabbitEnv } from '@app/platform';

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
}
