import { DynamicModule, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { ClassConstructor } from 'class-transformer';
import { validateEnv } from './env';

/**
 * Loads `.env` (variables already set in the environment win), validates it into the app's env
 * class, and provides that typed object under the class itself: `constructor(private env: StoreEnv)`.
 */
@Module({})
export class EnvModule {
  static forRoot<E extends object>(envClass: ClassConstructor<E>): DynamicModule {
    return {
      module: EnvModule,
      global: true,
      imports: [ConfigModule.forRoot({ cache: true })],
      providers: [{ provide: envClass, useFactory: () => validateEnv(envClass)(process.env) }],
      exports: [envClass],
    };
  }
}
