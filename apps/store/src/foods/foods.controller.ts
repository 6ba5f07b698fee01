import { CreateFoodCommand, FoodView, StorePattern } from '@app/contracts';
import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { FoodsService } from './foods.service';

@Controller()
export class FoodsController {
  constructor(private readonly foods: FoodsService) {}

  @MessagePattern(StorePattern.CREATE_FOOD)
  create(@Payload() dto: CreateFoodCommand): Promise<FoodView> {
    return this.foods.create(dto.name, dto.packets, dto.idempotencyKey, dto.id);
  }

  @MessagePattern(StorePattern.LIST_FOODS)
  list(): Promise<FoodView[]> {
    return this.foods.list();
  }
}
