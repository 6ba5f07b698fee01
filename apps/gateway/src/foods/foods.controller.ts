import { CreateFoodDto, FoodView, PacketCountDto } from '@app/contracts';
import { Body, Controller, Get, Param, ParseIntPipe, Post } from '@nestjs/common';
import { FoodsService } from './foods.service';

@Controller('foods')
export class FoodsController {
  constructor(private readonly foods: FoodsService) {}

  @Post()
  create(@Body() dto: CreateFoodDto): Promise<FoodView> {
    return this.foods.create(dto);
  }

  @Post(':foodId/packets')
  addPackets(@Param('foodId', ParseIntPipe) foodId: number, @Body() dto: PacketCountDto): Promise<FoodView> {
    return this.foods.addPackets(foodId, dto.count);
  }

  @Get()
  list(): Promise<FoodView[]> {
    return this.foods.list();
  }
}
