import {
  AssignPacketsBatchDto,
  AssignPacketsDto,
  BatchReply,
  CartReservation,
  OrderRefDto,
  PacketsAssignment,
  ReleaseBatchDto,
  ReleaseResult,
  ReserveCartDto,
  ReserveCartsDto,
  StorePattern,
} from '@app/contracts';
import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { PacketsService } from './packets.service';

@Controller()
export class PacketsController {
  constructor(private readonly packets: PacketsService) {}

  @MessagePattern(StorePattern.RESERVE_CART)
  reserve(@Payload() dto: ReserveCartDto): Promise<CartReservation> {
    return this.packets.reserveCart(dto.orderId, dto.storeId, dto.items);
  }

  @MessagePattern(StorePattern.ASSIGN_PACKETS)
  assign(@Payload() dto: AssignPacketsDto): Promise<PacketsAssignment> {
    return this.packets.assign(dto.orderId, dto.packetIds);
  }

  @MessagePattern(StorePattern.RELEASE_PACKETS)
  release(@Payload() dto: OrderRefDto): Promise<ReleaseResult> {
    return this.packets.release(dto.orderId);
  }

  @MessagePattern(StorePattern.RESERVE_CARTS)
  async reserveBatch(@Payload() dto: ReserveCartsDto): Promise<BatchReply<CartReservation>> {
    return { outcomes: await this.packets.reserveCarts(dto.requests) };
  }

  @MessagePattern(StorePattern.ASSIGN_PACKETS_BATCH)
  async assignBatch(@Payload() dto: AssignPacketsBatchDto): Promise<BatchReply<PacketsAssignment>> {
    return { outcomes: await this.packets.assignBatch(dto.requests) };
  }

  @MessagePattern(StorePattern.RELEASE_PACKETS_BATCH)
  async releaseBatch(@Payload() dto: ReleaseBatchDto): Promise<BatchReply<ReleaseResult>> {
    return { outcomes: await this.packets.releaseBatch(dto.requests) };
  }
}
