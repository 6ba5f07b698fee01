import { Global, Module } from '@nestjs/common';
import { GatewayEnv } from '../config/gateway.env';
import { Partitions } from './partitions';

/** The partitions and their RabbitMQ clients, for every feature of the gateway. */
@Global()
@Module({
  providers: [{ provide: Partitions, inject: [GatewayEnv], useFactory: (env: GatewayEnv) => Partitions.connect(env) }],
  exports: [Partitions],
})
export class PartitionsModule {}
