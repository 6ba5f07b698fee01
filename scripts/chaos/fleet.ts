import { setTimeout as sleep } from 'node:timers/promises';
import { SERVICES, ServiceName, System, metricsPortVariable } from '../system';

/** An instance that exited: when, how, and the last lines it printed. */
export interface InstanceExit {
  name: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  at: string;
  lastLines: string[];
}

/**
 * The ports of a chaos run, from its base port: the two gateways on `base` and `base + 1`, the
 * services' /health and /metrics on `base + 2` to `base + 7`, a broker of the run's own on `base + 8`.
 */
export function chaosPorts(base: number) {
  return {
    gateways: [base, base + 1],
    health: {
      order: [base + 2, base + 5],
      store: [base + 3, base + 6],
      delivery: [base + 4, base + 7],
    } as Record<Exclude<ServiceName, 'gateway'>, number[]>,
    broker: base + 8,
  };
}

const TAIL_LINES = 40;

/**
 * Two instances of every app, and the faults done to them: kill -9 and restart, SIGSTOP and
 * SIGCONT. It tells the exits it caused from the ones it did not (a crash, a boot that died); an
 * instance that dies on its own is counted and started again a second later, as a supervisor
 * would, so that the run goes on.
 */
export class Fleet {
  readonly system: System;
  readonly unexpectedExits: InstanceExit[] = [];
  /** Instances that did not exit 0 when stopped with SIGTERM at the end. */
  readonly uncleanStops: InstanceExit[] = [];
  private readonly expected = new Set<string>();
  private readonly paused = new Set<string>();
  private readonly tails = new Map<string, string[]>();
  private stopping = false;

  constructor(
    env: Record<string, string>,
    private readonly ports: ReturnType<typeof chaosPorts>,
    write: (who: string, line: string) => void,
  ) {
    this.system = new System({
      env,
      output: (who, line) => {
        write(who, line);
        const tail = this.tails.get(who) ?? [];
        tail.push(line);
        if (tail.length > TAIL_LINES) tail.shift();
        this.tails.set(who, tail);
      },
      onExit: (name, code, signal) => this.exited(name, code, signal),
    });
  }

  /** Instance 1 of every app (the gateway healthy means every service answers), then instance 2 of each. */
  async start(): Promise<void> {
    await this.system.start();
    for (const service of SERVICES) this.spawn(service, 2);
    const healthy = await Promise.all(SERVICES.map((service) => this.waitHealthy(service, 2)));
    if (healthy.includes(false)) throw new Error('the second instances did not become healthy within 60 s');
  }

  /** kill -9, `downMs` without it, a restart; resolves once it is healthy again (false if not within 60 s). */
  async kill(service: ServiceName, instance: 1 | 2, downMs: number, signal?: AbortSignal): Promise<boolean> {
    const name = instanceName(service, instance);
    this.expected.add(name);
    if (!(await this.system.stop(name, 'SIGKILL'))) this.expected.delete(name);
    await sleep(downMs, undefined, { signal });
    this.ensureRunning(service, instance);
    return this.waitHealthy(service, instance, signal);
  }

  /** SIGSTOP, `pauseMs` frozen, SIGCONT. */
  async pause(service: ServiceName, instance: 1 | 2, pauseMs: number, signal?: AbortSignal): Promise<void> {
    const name = instanceName(service, instance);
    if (!this.system.running(name)) return;
    this.system.signal(name, 'SIGSTOP');
    this.paused.add(name);
    try {
      await sleep(pauseMs, undefined, { signal });
    } finally {
      this.system.signal(name, 'SIGCONT');
      this.paused.delete(name);
    }
  }

  /** Waits for every instance to answer /health, starting any that is down. */
  async allHealthy(signal?: AbortSignal): Promise<string[]> {
    const all = SERVICES.flatMap((service) => ([1, 2] as const).map((instance) => [service, instance] as const));
    for (const [service, instance] of all) this.ensureRunning(service, instance);
    const healthy = await Promise.all(all.map(([service, instance]) => this.waitHealthy(service, instance, signal)));
    return all.filter((_, i) => !healthy[i]).map(([service, instance]) => instanceName(service, instance));
  }

  /** SIGTERM to every instance (thawing any frozen one first); exits that are not 0 are kept in uncleanStops. */
  async stopAll(): Promise<void> {
    this.stopping = true;
    for (const name of this.paused) this.system.signal(name, 'SIGCONT');
    await this.system.stopAll('SIGTERM');
  }

  lastLines(name: string): string[] {
    return [...(this.tails.get(name) ?? [])];
  }

  private async waitHealthy(service: ServiceName, instance: 1 | 2, signal?: AbortSignal, timeoutMs = 60_000): Promise<boolean> {
    const port = service === 'gateway' ? this.ports.gateways[instance - 1] : this.ports.health[service][instance - 1];
    const giveUpAt = Date.now() + timeoutMs;
    while (Date.now() < giveUpAt) {
      const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
      await res?.arrayBuffer();
      if (res?.ok) return true;
      await sleep(250, undefined, { signal });
    }
    return false;
  }

  private spawn(service: ServiceName, instance: 1 | 2): void {
    const extraEnv = service === 'gateway' ? {} : { [metricsPortVariable(service)]: String(this.ports.health[service][instance - 1]) };
    this.system.spawn(service, instance, extraEnv);
  }

  private ensureRunning(service: ServiceName, instance: 1 | 2): void {
    if (!this.stopping && !this.system.running(instanceName(service, instance))) this.spawn(service, instance);
  }

  private exited(name: string, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.expected.delete(name)) return;
    const exit = { name, code, signal, at: new Date().toISOString(), lastLines: this.lastLines(name) };
    if (this.stopping) {
      if (code !== 0) this.uncleanStops.push(exit);
      return;
    }
    this.unexpectedExits.push(exit);
    const [service, instance] = name.split('#');
    setTimeout(() => this.ensureRunning(service as ServiceName, instance === '2' ? 2 : 1), 1000);
  }
}

export function instanceName(service: ServiceName, instance: 1 | 2): string {
  return instance === 1 ? service : `${service}#${instance}`;
}
