import { ErrorCode, PacketAssignment, PacketReservation, ReleaseResult } from '@app/contracts';
import { ContractException, PeriodicTask } from '@app/platform';
import { HoldRows } from '@app/participant';
import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { StoreEnv } from '../config/store.env';
import { Food } from '../foods/food.entity';
import { Packet } from './packet.entity';

/** The store's side of the two-phase commit: packets held, assigned and given back per order. */
@Injectable()
export class PacketsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly packets: HoldRows<Packet>;
  private readonly sweeper: PeriodicTask;

  constructor(dataSource: DataSource, env: StoreEnv) {
    this.packets = new HoldRows(dataSource, Packet, { barrier: 'packet_barrier', noun: 'packet', ttlMs: env.RESERVATION_TTL_MS });
    this.sweeper = this.packets.sweeper(env.SWEEP_INTERVAL_MS);
  }

  /** Phase 1: holds one packet of the food for the order until the reservation expires. */
  async reserve(orderId: string, foodId: number): Promise<PacketReservation> {
    const packetId = await this.packets.reserve(orderId, { foodId }, async (manager) => {
      if (!(await manager.existsBy(Food, { id: foodId }))) {
        return new ContractException(ErrorCode.UNKNOWN_FOOD, `Food ${foodId} does not exist`);
      }
      return this.packets.refusal(manager, { foodId }, new ContractException(ErrorCode.OUT_OF_STOCK, `Food ${foodId} is out of stock`));
    });
    return { orderId, packetId };
  }

  async assign(orderId: string, packetId: number): Promise<PacketAssignment> {
    return { orderId, packetId: await this.packets.assign(orderId, packetId) };
  }

  async release(orderId: string): Promise<ReleaseResult> {
    return { orderId, freed: await this.packets.release(orderId) };
  }

  onApplicationBootstrap(): void {
    this.sweeper.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.sweeper.stop();
  }
}
