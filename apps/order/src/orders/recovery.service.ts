import { PeriodicTask, withCorrelation } from '@app/platform';
import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { OrderEnv } from '../config/order.env';
import { CoordinatorService } from './coordinator.service';
import { OrderJournal, OrderLease } from './order-journal.service';
import { OrderTelemetry } from './order-telemetry';
import { Order } from './order.entity';

const BATCH = 50;

/**
 * Finishes orders whose driving instance stopped (crash, kill, lost connection): on start and then
 * every RECOVERY_INTERVAL_MS it claims unsettled orders whose lease ran out and drives each from its
 * logged state. A claim is a new fencing token: of several instances recovering at once exactly one
 * gets each order, and the stopped driver, should it come back, can no longer move it.
 */
@Injectable()
export class RecoveryService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly task: PeriodicTask;

  constructor(
    private readonly journal: OrderJournal,
    private readonly coordinator: CoordinatorService,
    private readonly telemetry: OrderTelemetry,
    env: OrderEnv,
  ) {
    this.task = new PeriodicTask('Recovery', env.RECOVERY_INTERVAL_MS, async () => {
      const stale = await journal.stale(BATCH);
      const claimed: [Order, OrderLease][] = [];
      for (const order of stale) {
        const lease = await journal.claim(order);
        if (lease) claimed.push([order, lease]);
      }
      if (claimed.length === 0) return undefined;
      const results = await Promise.allSettled(claimed.map(([order, lease]) => this.recover(order, lease)));
      const lines = results.map(
        (r, i) => `${claimed[i][0].id} -> ${r.status === 'fulfilled' ? r.value.state : `failed (${String(r.reason)}), retried later`}`,
      );
      return `Recovered ${claimed.length} order(s): ${lines.join(', ')}`;
    });
  }

  /** Drives one order on under its own correlation, so its calls and log lines name it. */
  private recover(order: Order, lease: OrderLease) {
    return withCorrelation({ correlationId: order.id, orderId: order.id }, async () => {
      this.telemetry.recovering(order.id, order.state);
      const view = await this.coordinator.resume(order, lease);
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
