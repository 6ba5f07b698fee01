import { CreateFoodCommand, CreateFoodDto, FoodView, Queue, StorePattern } from '@app/contracts';
import { RpcCallError } from '@app/platform';
import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { GatewayEnv } from '../config/gateway.env';
import { ApiError } from '../errors/api-error';
import { Partitions } from '../partitions/partitions';

/**
 * The food catalogue, with the default dark store's stock (the single-food API), on the store's
 * admin queue. Every addition carries an Idempotency-Key, the
 * client's or one minted here: the store adds at most once per key, so a redelivered message never
 * adds twice, and a client retrying with its key learns what its first request did.
 *
 * The catalogue is one for every partition: a food is created first in the default store's
 * partition, which gives it its id and first packets, then under that id in every other partition.
 */
@Injectable()
export class FoodsService {
  constructor(
    private readonly partitions: Partitions,
    private readonly env: GatewayEnv,
  ) {}

  async create(dto: CreateFoodDto, idempotencyKey: string = randomUUID()): Promise<FoodView> {
    const command: CreateFoodCommand = { ...dto, idempotencyKey };
    const first = this.partitions.default;
    const food = await first.call<FoodView>(Queue.STORE_ADMIN, StorePattern.CREATE_FOOD, command, this.env.ORDER_WAIT_MS);
    const others = this.partitions.all.filter((route) => route !== first);
    // The default store is in the first partition only: the others get the food, not its packets.
    const copy: CreateFoodCommand = { name: dto.name, packets: 0, idempotencyKey, id: food.id };
    const copies = await Promise.allSettled(
      others.map((route) => route.call(Queue.STORE_ADMIN, StorePattern.CREATE_FOOD, copy, this.env.ORDER_WAIT_MS)),
    );
    const failed = copies.flatMap((copied, i) => (copied.status === 'rejected' ? [{ route: others[i], err: copied.reason as Error }] : []));
    if (failed.length > 0) {
      const { err } = failed[0];
      if (!(err instanceof RpcCallError)) throw err;
      const where = failed.map(({ route, err: why }) => `${route.name} (${why.message})`).join(', ');
      // Sent again with the same key, the request finds the food made and finishes the copies.
      throw new ApiError(
        err.code,
        `Food ${food.id} was added to partition ${first.name} but not yet to ${where}; send the request again with Idempotency-Key ${idempotencyKey}`,
      );
    }
    return food;
  }

  /** A read: dropped, never run, once its caller has stopped waiting. */
  list(): Promise<FoodView[]> {
    return this.partitions.default.call(Queue.STORE_ADMIN, StorePattern.LIST_FOODS, {}, this.env.RPC_TIMEOUT_MS, { expire: true });
  }
}
