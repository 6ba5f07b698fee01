import { createApp, loadEnvOrExit } from '@app/contracts';
import { Logger } from '@nestjs/common';
import { GatewayEnv } from './config/gateway.env';
import { ApiExceptionFilter } from './errors/api-exception.filter';
import { httpValidationPipe } from './errors/validation';
import { GatewayModule } from './gateway.module';

async function bootstrap(): Promise<void> {
  const env = loadEnvOrExit(GatewayEnv, 'gateway');
  const app = await createApp('gateway', GatewayModule, GatewayEnv, env);
  app.useGlobalPipes(httpValidationPipe());
  app.useGlobalFilters(new ApiExceptionFilter());
  await app.listen(env.PORT, env.HOST);
  new Logger('gateway').log(`gateway is listening on http://${env.HOST}:${env.PORT}`);
}

void bootstrap();
