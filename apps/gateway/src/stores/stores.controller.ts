import {
  AgentsCreated,
  CreateAgentsDto,
  CreateStoreDto,
  ErrorCode,
  FoodView,
  StorePacketsDto,
  StoreRefDto,
  StoreView,
} from '@app/contracts';
import { Body, Controller, Get, Param, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiExtraModels, ApiOkResponse, ApiOperation, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { AdminOnly } from '../auth/admin-key.guard';
import { ApiErrors } from '../docs/api-errors.decorator';
import { AgentsCreatedDoc, FoodViewDoc, NewStoreDoc, StoreListingDoc, StoreViewDoc } from '../docs/schemas';
import { ADDITION_RETRIES, IdempotencyKey } from '../http/idempotency-key';
import { StoreCreated, StoreListing, StoresService } from './stores.service';

@ApiTags('stores')
@Controller('stores')
export class StoresController {
  constructor(private readonly stores: StoresService) {}

  @Post()
  @AdminOnly()
  @ApiOperation({
    summary: 'Add a dark store: its packets and its agents serve the orders placed with it',
    description:
      'With PARTITION_MAP, in the partition `partition` names (absent: the default dark store’s), which gives it an id of its range.',
  })
  @ApiCreatedResponse({ type: NewStoreDoc })
  @ApiErrors(
    ErrorCode.IDEMPOTENCY_KEY_REUSED,
    ErrorCode.PARTITION_NOT_FOUND,
    ErrorCode.STORE_EXISTS,
    ErrorCode.STORE_RANGE_FULL,
    ErrorCode.SERVICE_UNAVAILABLE,
  )
  create(@Body() dto: CreateStoreDto, @IdempotencyKey(ADDITION_RETRIES) idempotencyKey: string | undefined): Promise<StoreCreated> {
    return this.stores.create(dto.name, dto.partition, idempotencyKey);
  }

  @Get()
  @ApiOperation({
    summary: 'Every dark store with its agents and, per food, its packets (free, reserved, assigned, total)',
    description:
      'Without PARTITION_MAP, the list of stores. With it, `{ stores, unavailable }`: every partition’s stores, and the partitions that did not answer.',
  })
  @ApiExtraModels(StoreViewDoc, StoreListingDoc)
  @ApiOkResponse({
    schema: { oneOf: [{ type: 'array', items: { $ref: getSchemaPath(StoreViewDoc) } }, { $ref: getSchemaPath(StoreListingDoc) }] },
  })
  @ApiErrors(ErrorCode.SERVICE_UNAVAILABLE)
  list(): Promise<StoreView[] | StoreListing> {
    return this.stores.list();
  }

  @Get(':storeId')
  @ApiOperation({ summary: 'One dark store with its agents and, per food, its packets' })
  @ApiOkResponse({ type: StoreViewDoc })
  @ApiErrors(ErrorCode.STORE_NOT_FOUND, ErrorCode.SERVICE_UNAVAILABLE)
  view(@Param() { storeId }: StoreRefDto): Promise<StoreView> {
    return this.stores.view(storeId);
  }

  @Post(':storeId/packets')
  @AdminOnly()
  @ApiOperation({ summary: 'Add packets of a food of the catalogue to a dark store' })
  @ApiCreatedResponse({ type: FoodViewDoc, description: 'The food with its new counts in the store' })
  @ApiErrors(ErrorCode.IDEMPOTENCY_KEY_REUSED, ErrorCode.STORE_NOT_FOUND, ErrorCode.FOOD_NOT_FOUND, ErrorCode.SERVICE_UNAVAILABLE)
  addPackets(
    @Param() { storeId }: StoreRefDto,
    @Body() dto: StorePacketsDto,
    @IdempotencyKey(ADDITION_RETRIES) idempotencyKey: string | undefined,
  ): Promise<FoodView> {
    return this.stores.addPackets(storeId, dto.foodId, dto.count, idempotencyKey);
  }

  @Post(':storeId/agents')
  @AdminOnly()
  @ApiOperation({ summary: 'Add delivery agents to a dark store: `count` anonymous ones or the named ones in `names`' })
  @ApiCreatedResponse({ type: AgentsCreatedDoc })
  @ApiErrors(ErrorCode.IDEMPOTENCY_KEY_REUSED, ErrorCode.STORE_NOT_FOUND, ErrorCode.AGENT_EXISTS, ErrorCode.SERVICE_UNAVAILABLE)
  addAgents(
    @Param() { storeId }: StoreRefDto,
    @Body() dto: CreateAgentsDto,
    @IdempotencyKey(ADDITION_RETRIES) idempotencyKey: string | undefined,
  ): Promise<AgentsCreated> {
    return this.stores.addAgents(storeId, dto, idempotencyKey);
  }
}
