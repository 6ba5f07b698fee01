import { AddPacketsDto, CreateStoreCommand, FoodView, ListStoresDto, StorePattern, StoreStock } from '@app/contracts';
import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { StoresService } from './stores.service';

@Controller()
export class StoresController {
  constructor(private readonly stores: StoresService) {}

  @MessagePattern(StorePattern.CREATE_STORE)
  create(@Payload() dto: CreateStoreCommand): Promise<StoreStock> {
    return this.stores.create(dto.name, dto.idempotencyKey);
  }

  @MessagePattern(StorePattern.LIST_STORES)
  list(@Payload() dto: ListStoresDto): Promise<StoreStock[]> {
    return this.stores.list(dto.storeId);
  }

  @MessagePattern(StorePattern.ADD_PACKETS)
  addPackets(@Payload() dto: AddPacketsDto): Promise<FoodView> {
    return this.stores.addPackets(dto.storeId, dto.foodId, dto.count, dto.idempotencyKey);
  }
}
