import { Injectable, Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { FaultPoint, OrderEnv } from '../config/order.env';

/**
 * Deterministic places for fault tests to stop the coordinator: FAULT_POINT names the place,
 * FAULT_ACTION whether the process dies there (kill -9 of itself) or stalls for FAULT_PAUSE_MS.
 * Unset in normal runs, and refused at boot in production.
 */
@Injectable()
export class FaultPoints {
  private readonly logger = new Logger(FaultPoints.name);

  constructor(private readonly env: OrderEnv) {}

  async reach(point: FaultPoint, orderId: string): Promise<void> {
    if (this.env.FAULT_POINT !== point) return;
    if (this.env.FAULT_ACTION === 'crash') {
      this.logger.warn(`Fault point ${point} reached by order ${orderId}: crashing`);
      process.kill(process.pid, 'SIGKILL');
    }
    this.logger.warn(`Fault point ${point} reached by order ${orderId}: pausing ${this.env.FAULT_PAUSE_MS} ms`);
    await sleep(this.env.FAULT_PAUSE_MS);
  }
}
