import { CreateFoodDto, DEFAULT_STORE_ID, ErrorCode, FoodRefDto, FoodView, PacketCountDto } from '@app/contracts';
import { Body, Controller, Get, Param, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../auth/admin-key.guard';
import { ApiErrors } from '../docs/api-errors.decorator';
import { FoodViewDoc } from '../docs/schemas';
import { ADDITION_RETRIES, IdempotencyKey } from '../http/idempotency-key';
import { StoresService } from '../stores/stores.service';
import { FoodsService } from './foods.service';

@ApiTags('foods')
@Controller('foods')
export class FoodsController {
  constructor(
    private readonly foods: FoodsService,
    private readonly stores: StoresService,
  ) {}

  @Post()
  @AdminOnly()
  @ApiOperation({ summary: 'Add a food to the catalogue, with its first packets in the default dark store' })
  @ApiCreatedResponse({ type: FoodViewDoc })
  @ApiErrors(ErrorCode.IDEMPOTENCY_KEY_REUSED, ErrorCode.FOOD_EXISTS, ErrorCode.SERVICE_UNAVAILABLE)
  create(@Body() dto: CreateFoodDto, @IdempotencyKey(ADDITION_RETRIES) idempotencyKey: string | undefined): Promise<FoodView> {
    return this.foods.create(dto, idempotencyKey);
  }

  @Post(':foodId/packets')
  @AdminOnly()
  @ApiOperation({ summary: 'Add packets of a food to the default dark store' })
  @ApiCreatedResponse({ type: FoodViewDoc, description: 'The food with its new counts' })
  @ApiErrors(ErrorCode.IDEMPOTENCY_KEY_REUSED, ErrorCode.FOOD_NOT_FOUND, ErrorCode.SERVICE_UNAVAILABLE)
  addPackets(
    @Param() { foodId }: FoodRefDto,
    @Body() dto: PacketCountDto,
    @IdempotencyKey(ADDITION_RETRIES) idempotencyKey: string | undefined,
  ): Promise<FoodView> {
    return this.stores.addPackets(DEFAULT_STORE_ID, foodId, dto.count, idempotencyKey);
  }

  @Get()
  @ApiOperation({ summary: 'Every food of the catalogue with its free, reserved, assigned and total packets in the default dark store' })
  @ApiOkResponse({ type: [FoodViewDoc] })
  @ApiErrors(ErrorCode.SERVICE_UNAVAILABLE)
  list(): Promise<FoodView[]> {
    return this.foods.list();
  }
}
