import { createApp, loadEnvOrExit, startOrExit } from '@app/platform';
import { Logger } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import { GatewayEnv } from './config/gateway.env';
import { setUpDocs } from './docs/docs';
import { ApiExceptionFilter } from './errors/api-exception.filter';
import { httpValidationPipe } from './errors/validation';
import { GatewayModule } from './gateway.module';
import { acceptJsonOnly } from './http/http-input';
import { answerUnlistedMethods } from './http/method-not-allowed';

const env = loadEnvOrExit(GatewayEnv, 'gateway');

startOrExit('gateway', env, async () => {
  // Our own JSON-only body parser with a size limit (acceptJsonOnly), not Nest's default one.
  const app = await createApp<GatewayEnv, NestExpressApplication>('gateway', GatewayModule, GatewayEnv, env, { bodyParser: false });
  answerUnlistedMethods(app, setUpDocs(app));
  acceptJsonOnly(app, env);
  app.useGlobalPipes(httpValidationPipe());
  app.useGlobalFilters(new ApiExceptionFilter());
  await app.listen(env.PORT, env.HOST);
  new Logger('gateway').log(`gateway is listening on http://${env.HOST}:${env.PORT}`);
});
