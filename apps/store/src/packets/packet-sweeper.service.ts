import { PeriodicTask } from '@app/contracts';
import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { StoreEnv } from '../config/store.env';
import { PacketsService } from './packets.service';

/** Gives expired reservations back, so nothing stays held even if the coordinator never returns (I3). */
@Injectable()
export class PacketSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly task: PeriodicTask;

  constructor(packets: PacketsService, env: StoreEnv) {
    this.task = new PeriodicTask('PacketSweeper', env.SWEEP_INTERVAL_MS, async () => {
      const freed = await packets.sweepExpired();
      return freed > 0 ? `Swept ${freed} expired packet reservation(s)` : undefined;
    });
  }

  onApplicationBootstrap(): void {
    this.task.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.task.stop();
  }
}
