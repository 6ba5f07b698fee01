import { SERVICES, ServiceName } from '../system';
import { Dice } from './dice';

/** One fault of a chaos run, `at` ms after the clients start. */
export type Fault =
  /** kill -9 of one instance; it is started again `downMs` later. */
  | { at: number; kind: 'kill'; service: ServiceName; instance: 1 | 2; downMs: number }
  /**
   * SIGSTOP of an order instance for longer than its lease, then SIGCONT: it wakes up to orders
   * recovery took over, and past two missed heartbeats (10 s) to messages the broker gave to the other instance.
   */
  | { at: number; kind: 'pause'; service: 'order'; instance: 1 | 2; pauseMs: number }
  /** Every database session of the run killed, `kills` times, `spacingMs` apart. */
  | { at: number; kind: 'db-burst'; kills: number; spacingMs: number }
  /** The broker application stopped, and started again `downMs` later. */
  | { at: number; kind: 'broker-restart'; downMs: number };

export interface ScheduleOptions {
  durationMs: number;
  /** The order service's LEASE_MS: a pause lasts longer. */
  leaseMs: number;
  brokerRestarts: number;
}

/** No fault in the first and last seconds of the run: the clients get going, and the last fault ends in time. */
export const QUIET_MS = 3000;
/** What a restarted instance gets to boot before the next fault of its service is due. */
export const BOOT_ALLOWANCE_MS = 6000;

/**
 * The faults of a run, from its seed alone: the same seed gives the same faults at the same times.
 * Each service has a lane of its own (kill -9 of either instance; for the order service, kills and
 * pauses past the lease by turns), and a fault of a service is due only after the previous one has ended, so one
 * instance of every app is up at any time; the database and the broker have lanes of their own, and
 * lanes overlap freely.
 */
export function faultSchedule(seed: number, options: ScheduleOptions): Fault[] {
  const end = options.durationMs - QUIET_MS;
  const faults: Fault[] = [];
  for (const service of SERVICES) {
    const dice = new Dice(seed, `faults/${service}`);
    // The order service's faults take turns, a pause first: its length is known in advance, while a
    // kill lasts until the instance is healthy again, which on a loaded machine (or behind a broker
    // restart) can take long enough to push a pause after it out of a 30 s run.
    let pauseNext = service === 'order';
    for (let at = QUIET_MS + dice.int(0, 3000); at < end;) {
      const instance = dice.pick([1, 2] as const);
      let lasts: number;
      if (pauseNext) {
        lasts = options.leaseMs + dice.int(1000, 4000);
        faults.push({ at, kind: 'pause', service: 'order', instance, pauseMs: lasts });
      } else {
        lasts = dice.int(200, 3000);
        faults.push({ at, kind: 'kill', service, instance, downMs: lasts });
      }
      // Right after a pause the kill follows sooner, so that a 30 s run has both.
      at += lasts + BOOT_ALLOWANCE_MS + (pauseNext ? dice.int(1000, 3000) : dice.int(1000, 10_000));
      if (service === 'order') pauseNext = !pauseNext;
    }
  }
  const database = new Dice(seed, 'faults/database');
  for (let at = QUIET_MS + database.int(0, 5000); at < end; at += database.int(6000, 20_000)) {
    faults.push({ at, kind: 'db-burst', kills: database.int(2, 6), spacingMs: database.int(100, 700) });
  }
  const broker = new Dice(seed, 'faults/broker');
  for (let i = 1; i <= options.brokerRestarts; i++) {
    const at = Math.round((options.durationMs * i) / (options.brokerRestarts + 1)) + broker.int(-2000, 2000);
    faults.push({ at: Math.min(Math.max(at, QUIET_MS), end), kind: 'broker-restart', downMs: broker.int(1000, 4000) });
  }
  return faults.sort((a, b) => a.at - b.at);
}

/** The lane a fault runs in: faults of one lane run one after the other. */
export function laneOf(fault: Fault): string {
  return 'service' in fault ? fault.service : fault.kind;
}
