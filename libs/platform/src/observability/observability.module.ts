import { DynamicModule, Module } from '@nestjs/common';
import { ClassConstructor } from 'class-transformer';
import { LoggerModule } from 'nestjs-pino';
import { RabbitEnv } from '../config/env';
import { loggerParams } from './logging';
import { MetricsController } from './metrics';

/** What every app gets for operations: the pino logger and GET /metrics. */
@Module({})
export class ObservabilityModule {
  static forApp<E extends RabbitEnv>(app: string, envClass: ClassConstructor<E>): DynamicModule {
    return {
      module: ObservabilityModule,
      imports: [LoggerModule.forRootAsync({ inject: [envClass], useFactory: (env: E) => loggerParams(app, env) })],
      controllers: [MetricsController],
    };
  }
}
