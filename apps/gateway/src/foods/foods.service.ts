import { CreateFoodDto, FoodView, Queue, StorePattern } from '@app/contracts';
import { call, clientToken } from '@app/platform';
import { Inject, Injectable } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { GatewayEnv } from '../config/gateway.env';

@Injectable()
export class FoodsService {
  constructor(
    @Inject(clientToken(Queue.STORE)) private readonly store: ClientProxy,
    private readonly env: GatewayEnv,
  ) {}

  create(dto: CreateFoodDto): Promise<FoodView> {
    return call(this.store, StorePattern.CREATE_FOOD, dto, this.env.ORDER_WAIT_MS);
  }

  addPackets(foodId: number, count: number): Promise<FoodView> {
    return call(this.store, StorePattern.ADD_PACKETS, { foodId, count }, this.env.ORDER_WAIT_MS);
  }

  list(): Promise<FoodView[]> {
    return call(this.store, StorePattern.LIST_FOODS, {}, this.env.RPC_TIMEOUT_MS);
  }
}
