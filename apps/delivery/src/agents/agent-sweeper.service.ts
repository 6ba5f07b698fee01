import { PeriodicTask } from '@app/contracts';
import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DeliveryEnv } from '../config/delivery.env';
import { AgentsService } from './agents.service';

/** Gives expired reservations back, so no agent stays held even if the coordinator never returns (I3). */
@Injectable()
export class AgentSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly task: PeriodicTask;

  constructor(agents: AgentsService, env: DeliveryEnv) {
    this.task = new PeriodicTask('AgentSweeper', env.SWEEP_INTERVAL_MS, async () => {
      const freed = await agents.sweepExpired();
      return freed > 0 ? `Swept ${freed} expired agent reservation(s)` : undefined;
    });
  }

  onApplicationBootstrap(): void {
    this.task.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.task.stop();
  }
}
