import { CreateFoodDto, FoodView, PacketCountDto } from '@app/contracts';
import { Body, Controller, Get, Param, Post } from '@nestjs/common';
import { AdminOnly } from '../auth/admin-key.guard';
import { intParam } from '../errors/validation';
import { FoodsService } from './foods.service';

@Controller('foods')
export class FoodsController {
  constructor(private readonly foods: FoodsService) {}

  @Post()
  @AdminOnly()
  create(@Body() dto: CreateFoodDto): Promise<FoodView> {
    return this.foods.create(dto);
  }

  @Post(':foodId/packets')
  @AdminOnly()
  addPackets(@Param('foodId', intParam('foodId')) foodId: number, @Body() dto: PacketCountDto): Promise<FoodView> {
    return this.foods.addPackets(foodId, dto.count);
  }

  @Get()
  list(): Promise<FoodView[]> {
    return this.foods.list();
  }
}
