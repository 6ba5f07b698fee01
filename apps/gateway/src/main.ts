import { loadEnvOrExit } from '@app/contracts';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { GatewayEnv } from './config/gateway.env';
import { setUpDocs } from './docs/docs';
import { ApiExceptionFilter } from './errors/api-exception.filter';
import { httpValidationPipe } from './errors/validation';
import { GatewayModule } from './gateway.module';

async function bootstrap(): Promise<void> {
  const env = loadEnvOrExit(GatewayEnv, 'gateway');
  const app = await NestFactory.create(GatewayModule, { logger: ['log', 'error', 'warn'] });
  app.enableShutdownHooks();
  app.useGlobalPipes(httpValidationPipe());
  app.useGlobalFilters(new ApiExceptionFilter());
  setUpDocs(app);
  await app.listen(env.PORT, env.HOST);
  new Logger('gateway').log(`gateway is listening on http://${env.HOST}:${env.PORT}`);
}

void bootstrap();
