import {
  AssignPacketDto,
  OrderRefDto,
  PacketAssignment,
  PacketReservation,
  ReleaseResult,
  ReservePacketDto,
  StorePattern,
} from '@app/contracts';
import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { PacketsService } from './packets.service';

@Controller()
export class PacketsController {
  constructor(private readonly packets: PacketsService) {}

  @MessagePattern(StorePattern.RESERVE_PACKET)
  reserve(@Payload() dto: ReservePacketDto): Promise<PacketReservation> {
    return this.packets.reserve(dto.orderId, dto.foodId);
  }

  @MessagePattern(StorePattern.ASSIGN_PACKET)
  assign(@Payload() dto: AssignPacketDto): Promise<PacketAssignment> {
    return this.packets.assign(dto.orderId, dto.packetId);
  }

  @MessagePattern(StorePattern.RELEASE_PACKET)
  release(@Payload() dto: OrderRefDto): Promise<ReleaseResult> {
    return this.packets.release(dto.orderId);
  }
}
