import { PeriodicTask, withCorrelation } from '@app/platform';
import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { OrderEnv } from '../config/order.env';
import { CoordinatorService } from './coordinator.service';
import { OrderJournal } from './order-journal.service';
import { OrderTelemetry } from './order-telemetry';
import { Order } from './order.entity';

const BATCH = 50;

/**
 * Finishes orders whose driving instance stopped (crash, kill, lost connection): on start and then
 * every RECOVERY_INTERVAL_MS it claims unsettled orders whose lease ran out and drives each from its
 * logged state. Claims are exclusive, so several instances can run this side by side.
 */
@Injectable()
export class RecoveryService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly task: PeriodicTask;

  constructor(
    journal: OrderJournal,
    private readonly coordinator: CoordinatorService,
    private readonly telemetry: OrderTelemetry,
    env: OrderEnv,
  ) {
    this.task = new PeriodicTask('Recovery', env.RECOVERY_INTERVAL_MS, async () => {
      const claimed = await journal.claimStale(BATCH);
      if (claimed.length === 0) return undefined;
      const results = await Promise.allSettled(claimed.map((order) => this.recover(order)));
      const lines = results.map(
        (r, i) => `${claimed[i].id} -> ${r.status === 'fulfilled' ? r.value.state : `failed (${String(r.reason)}), retried later`}`,
      );
      return `Recovered ${claimed.length} order(s): ${lines.join(', ')}`;
    });
  }

  /** Drives one order on under its own correlation, so its calls and log lines name it. */
  private recover(order: Order) {
    return withCorrelation({ correlationId: order.id, orderId: order.id }, async () => {
      this.telemetry.recovering(order.id, order.state);
      const view = await this.coordinator.resume(order);
      this.telemetry.recovered(order.id, view.state);
      return view;
    });
  }

  onApplicationBootstrap(): void {
    void this.task.runOnce();
    this.task.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.task.stop();
  }
}
