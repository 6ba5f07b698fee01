import { CreateFoodCommand, CreateFoodDto, FoodView, Queue, StorePattern } from '@app/contracts';
import { call, clientToken } from '@app/platform';
import { Inject, Injectable } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { randomUUID } from 'node:crypto';
import { GatewayEnv } from '../config/gateway.env';

/**
 * The food catalogue, with the default dark store's stock (the single-food API), on the store's
 * admin queue. Every addition carries an Idempotency-Key, the
 * client's or one minted here: the store adds at most once per key, so a redelivered message never
 * adds twice, and a client retrying with its key learns what its first request did.
 */
@Injectable()
export class FoodsService {
  constructor(
    @Inject(clientToken(Queue.STORE_ADMIN)) private readonly store: ClientProxy,
    private readonly env: GatewayEnv,
  ) {}

  create(dto: CreateFoodDto, idempotencyKey: string = randomUUID()): Promise<FoodView> {
    const command: CreateFoodCommand = { ...dto, idempotencyKey };
    return call(this.store, StorePattern.CREATE_FOOD, command, this.env.ORDER_WAIT_MS);
  }

  /** A read: dropped, never run, once its caller has stopped waiting. */
  list(): Promise<FoodView[]> {
    return call(this.store, StorePattern.LIST_FOODS, {}, this.env.RPC_TIMEOUT_MS, { expire: true });
  }
}
