import {
  AssignPacketsDto,
  CartReservation,
  OrderRefDto,
  PacketsAssignment,
  ReleaseResult,
  ReserveCartDto,
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
}
