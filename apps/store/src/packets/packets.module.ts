import { Module } from '@nestjs/common';
import { PacketSweeper } from './packet-sweeper.service';
import { PacketsController } from './packets.controller';
import { PacketsService } from './packets.service';

@Module({
  controllers: [PacketsController],
  providers: [PacketsService, PacketSweeper],
})
export class PacketsModule {}
