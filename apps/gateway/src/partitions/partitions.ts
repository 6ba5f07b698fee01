import { ErrorCode, isMintedOrderId, partitionOrderIdSecret, Queue, QueueName, queueName } from '@app/contracts';
import { call, Partition, PartitionMap, partitionMapOf, rmqClientOptions, RpcCallError, rmqSettings, stream } from '@app/platform';
import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { ClientProxy, ClientProxyFactory } from '@nestjs/microservices';
import { GatewayEnv } from '../config/gateway.env';
import { ApiError } from '../errors/api-error';
import { QueueConsumers } from './queue-consumers';

/**
 * One partition as the gateway reaches it: a RabbitMQ client per queue of its services, under its
 * queue prefix, and the key its order ids are signed with.
 */
export class PartitionRoute {
  constructor(
    readonly partition: Partition,
    /** ORDER_ID_SECRET for the default store's partition, its own derived key for any other (partitionOrderIdSecret). */
    readonly orderIdSecret: string,
    private readonly clients: Record<QueueName, ClientProxy>,
    private readonly consumers?: QueueConsumers,
  ) {}

  get name(): string {
    return this.partition.name;
  }

  /**
   * `call` on one of the partition's queues. With partitions configured, a request for a queue that
   * no service consumes (every service of the partition stopped) is refused at once, unsent: its
   * stores answer 503 without waiting, and an order sent there could only expire.
   */
  async call<T>(queue: QueueName, pattern: string, data: unknown, timeoutMs: number, options: { expire?: boolean } = {}): Promise<T> {
    await this.consumed(queue, pattern);
    return call<T>(this.clients[queue], pattern, data, timeoutMs, options);
  }

  /** `stream` (a request answered in several replies) on one of the partition's queues, refused unsent like `call`. */
  async stream<T>(queue: QueueName, pattern: string, data: unknown, timeoutMs: number, onReply: (reply: T) => void): Promise<void> {
    await this.consumed(queue, pattern);
    return stream<T>(this.clients[queue], pattern, data, timeoutMs, onReply);
  }

  private async consumed(queue: QueueName, pattern: string): Promise<void> {
    const name = queueName(this.partition.queuePrefix, queue);
    if ((await this.consumers?.count(name)) === 0) {
      throw new RpcCallError(
        ErrorCode.SERVICE_UNAVAILABLE,
        `${pattern}: partition ${this.name} is down (nothing consumes ${name}); not sent`,
        undefined,
        false,
      );
    }
  }

  close(): Promise<unknown> {
    return Promise.all(Object.values(this.clients).map((client) => client.close()));
  }
}

/** What each partition answered, and the partitions that could not be reached. */
export interface FromEach<T> {
  answers: T[];
  unavailable: string[];
}

/**
 * The partitions of PARTITION_MAP (one, `default`, without it) and how the gateway routes to them:
 * a dark store's requests to the partition whose range holds its id, an order's to the partition
 * whose key signed its id. Global listings ask every partition (fromEach).
 */
@Injectable()
export class Partitions implements OnApplicationShutdown {
  private readonly routes: PartitionRoute[];

  constructor(
    readonly map: PartitionMap,
    secret: string,
    clientFor: (partition: Partition, queue: QueueName) => ClientProxy,
    private readonly consumers?: QueueConsumers,
  ) {
    this.routes = map.partitions.map((partition) => {
      const key = partition === map.default ? secret : partitionOrderIdSecret(secret, partition.name);
      const clients = Object.fromEntries(Object.values(Queue).map((queue) => [queue, clientFor(partition, queue)]));
      return new PartitionRoute(partition, key, clients as Record<QueueName, ClientProxy>, consumers);
    });
  }

  /** The gateway's partitions, with a client per queue of each and, when a map is configured, the broker's consumer counts. */
  static connect(env: GatewayEnv): Partitions {
    const map = partitionMapOf(env.PARTITION_MAP, env);
    const clientFor = (partition: Partition, queue: QueueName) =>
      ClientProxyFactory.create(rmqClientOptions({ ...rmqSettings(env), queuePrefix: partition.queuePrefix }, queue));
    return new Partitions(map, env.ORDER_ID_SECRET, clientFor, map.configured ? new QueueConsumers(env.RABBITMQ_URL) : undefined);
  }

  get configured(): boolean {
    return this.map.configured;
  }

  get all(): readonly PartitionRoute[] {
    return this.routes;
  }

  get default(): PartitionRoute {
    return this.routes.find((route) => route.partition === this.map.default)!;
  }

  /** The partition of a dark store; STORE_NOT_FOUND when no partition's range holds the id. */
  ofStore(storeId: number): PartitionRoute {
    const partition = this.map.ofStore(storeId);
    if (!partition) throw new ApiError(ErrorCode.STORE_NOT_FOUND, `Dark store ${storeId} does not exist (no partition owns its id)`);
    return this.routes.find((route) => route.partition === partition)!;
  }

  /** The partition whose key signed the order id; an id no other key signed (one minted before partitions too) is the default's. */
  ofOrder(orderId: string): PartitionRoute {
    return this.routes.find((route) => route !== this.default && isMintedOrderId(orderId, route.orderIdSecret)) ?? this.default;
  }

  /** The partition named in a request (POST /stores); absent: the default store's. Like an unknown store id, an unknown name is 404. */
  named(name: string | undefined): PartitionRoute {
    if (name === undefined) return this.default;
    const route = this.routes.find((r) => r.name === name);
    if (!route) {
      const names = this.routes.map((r) => r.name).join(', ');
      throw new ApiError(ErrorCode.PARTITION_NOT_FOUND, `No partition is named "${name}"; the partitions are ${names}`);
    }
    return route;
  }

  /**
   * Asks every partition at once; one that cannot be reached (SERVICE_UNAVAILABLE, or a service
   * that failed and rolled back) is listed in `unavailable` instead of failing the whole answer.
   */
  async fromEach<T>(read: (route: PartitionRoute) => Promise<T>): Promise<FromEach<T>> {
    const settled = await Promise.allSettled(this.routes.map(read));
    const answers: T[] = [];
    const unavailable: string[] = [];
    settled.forEach((result, i) => {
      if (result.status === 'fulfilled') answers.push(result.value);
      else if (result.reason instanceof RpcCallError && result.reason.transient) unavailable.push(this.routes[i].name);
      else throw result.reason;
    });
    return { answers, unavailable };
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.routes.map((route) => route.close()));
    await this.consumers?.close();
  }
}
