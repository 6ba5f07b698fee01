import { DynamicModule } from '@nestjs/common';
import { ClientsModule } from '@nestjs/microservices';
import { ClassConstructor } from 'class-transformer';
import { RabbitEnv, rmqSettings } from '../config/env';
import { QueueName } from '@app/contracts';
import { rmqClientOptions } from './rmq-options';

/** The injection token of the client that sends to `queue`: `@Inject(clientToken(Queue.STORE))`. */
export function clientToken(queue: QueueName): string {
  return `${queue.toUpperCase()}_CLIENT`;
}

/** One long-lived RabbitMQ client per target queue for the whole app, configured from its validated env. */
export function serviceClients<E extends RabbitEnv>(envClass: ClassConstructor<E>, queues: QueueName[]): DynamicModule {
  return ClientsModule.registerAsync({
    isGlobal: true,
    clients: queues.map((queue) => ({
      name: clientToken(queue),
      inject: [envClass],
      useFactory: (env: E) => rmqClientOptions(rmqSettings(env), queue),
    })),
  });
}
