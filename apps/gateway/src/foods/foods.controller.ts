import { CreateFoodDto, ErrorCode, FoodView, PacketCountDto } from '@app/contracts';
import { Body, Controller, Get, Param, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiHeader, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../auth/admin-key.guard';
import { ApiErrors } from '../docs/api-errors.decorator';
import { FoodViewDoc } from '../docs/schemas';
import { intParam } from '../errors/validation';
import { ADDITION_KEY_HEADER } from '../http/addition-key-header';
import { IdempotencyKey } from '../orders/idempotency-key';
import { FoodsService } from './foods.service';

@ApiTags('foods')
@Controller('foods')
export class FoodsController {
  constructor(private readonly foods: FoodsService) {}

  @Post()
  @AdminOnly()
  @ApiOperation({ summary: 'Add a food with its first packets' })
  @ApiCreatedResponse({ type: FoodViewDoc })
  @ApiHeader(ADDITION_KEY_HEADER)
  @ApiErrors(
    ErrorCode.VALIDATION_FAILED,
    ErrorCode.PAYLOAD_TOO_LARGE,
    ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    ErrorCode.IDEMPOTENCY_KEY_REUSED,
    ErrorCode.FOOD_EXISTS,
    ErrorCode.SERVICE_UNAVAILABLE,
  )
  create(@Body() dto: CreateFoodDto, @IdempotencyKey() idempotencyKey: string | undefined): Promise<FoodView> {
    return this.foods.create(dto, idempotencyKey);
  }

  @Post(':foodId/packets')
  @AdminOnly()
  @ApiOperation({ summary: 'Add packets of a food' })
  @ApiParam({ name: 'foodId', type: Number, example: 1 })
  @ApiCreatedResponse({ type: FoodViewDoc, description: 'The food with its new counts' })
  @ApiHeader(ADDITION_KEY_HEADER)
  @ApiErrors(
    ErrorCode.VALIDATION_FAILED,
    ErrorCode.PAYLOAD_TOO_LARGE,
    ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    ErrorCode.IDEMPOTENCY_KEY_REUSED,
    ErrorCode.FOOD_NOT_FOUND,
    ErrorCode.SERVICE_UNAVAILABLE,
  )
  addPackets(
    @Param('foodId', intParam('foodId')) foodId: number,
    @Body() dto: PacketCountDto,
    @IdempotencyKey() idempotencyKey: string | undefined,
  ): Promise<FoodView> {
    return this.foods.addPackets(foodId, dto.count, idempotencyKey);
  }

  @Get()
  @ApiOperation({ summary: 'Every food with its free, reserved, assigned and total packets' })
  @ApiOkResponse({ type: [FoodViewDoc] })
  @ApiErrors(ErrorCode.SERVICE_UNAVAILABLE)
  list(): Promise<FoodView[]> {
    return this.foods.list();
  }
}
