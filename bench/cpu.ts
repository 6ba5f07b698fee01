import { readFileSync, readdirSync } from 'node:fs';

/**
 * CPU time (user + system, all threads) of named processes, read from /proc: the services of the
 * system under test, MariaDB, RabbitMQ and this load generator. Throughput on a shared 2-core
 * machine is noisy; CPU milliseconds spent per order is much steadier, and shows which process
 * the cores go to. Linux only; elsewhere every reading is empty.
 */
export class CpuMeter {
  private readonly ticksPerMs = 100 / 1000; // USER_HZ is 100 on Linux

  constructor(private readonly pids: () => Record<string, number | undefined>) {}

  /** CPU milliseconds used so far by each process. */
  read(): Record<string, number> {
    const ms: Record<string, number> = { loadgen: cpuMsOfSelf() };
    const pids = { ...this.pids(), mariadb: pidOf('mariadbd'), rabbitmq: pidOf('beam.smp') };
    for (const [name, pid] of Object.entries(pids)) {
      const ticks = pid === undefined ? undefined : cpuTicks(pid);
      if (ticks !== undefined) ms[name] = ticks / this.ticksPerMs;
    }
    return ms;
  }

  /** CPU milliseconds per unit of work between two readings, per process and in total. */
  static perUnit(before: Record<string, number>, after: Record<string, number>, units: number): Record<string, number> {
    const per: Record<string, number> = {};
    let total = 0;
    for (const name of Object.keys(after)) {
      const ms = after[name] - (before[name] ?? 0);
      per[name] = Math.round((ms / Math.max(units, 1)) * 100) / 100;
      total += ms;
    }
    per.total = Math.round((total / Math.max(units, 1)) * 100) / 100;
    return per;
  }
}

function cpuMsOfSelf(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

function cpuTicks(pid: number): number | undefined {
  try {
    // Fields after the command name: utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

/** The pid of the first process whose command line contains `needle`. */
function pidOf(needle: string): number | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  } catch {
    return undefined;
  }
  for (const entry of entries) {
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0')[0].includes(needle)) return Number(entry);
    } catch {
      // The process ended while we looked.
    }
  }
  return undefined;
}
