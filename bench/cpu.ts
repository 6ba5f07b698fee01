import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { commandLine, processIds, statFields } from '../scripts/procfs';

/**
 * CPU time (user + system, all threads) of named processes, read from /proc: the services of the
 * system under test, MariaDB, RabbitMQ and this load generator. Throughput on a shared 2-core
 * machine is noisy; CPU milliseconds spent per order is much steadier, and shows which process
 * the cores go to. Linux only; elsewhere every reading is empty.
 */
export class CpuMeter {
  private readonly ticksPerMs = 100 / 1000; // USER_HZ is 100 on Linux
  private readonly serverPids = new Map<string, number | undefined>();

  /** `servers`: the shared servers to count too, of SERVERS (a run that does not use the broker leaves it out). */
  constructor(
    private readonly pids: () => Record<string, number | undefined>,
    private readonly servers: (keyof typeof SERVERS)[] = ['mariadb', 'rabbitmq'],
  ) {}

  /** CPU milliseconds used so far by each process. */
  read(): Record<string, number> {
    const ms: Record<string, number> = { loadgen: cpuMsOfSelf() };
    const pids = { ...this.pids(), ...Object.fromEntries(this.servers.map((name) => [name, this.serverPid(name)])) };
    for (const [name, pid] of Object.entries(pids)) {
      const ticks = pid === undefined ? undefined : cpuTicks(pid);
      if (ticks !== undefined) ms[name] = ticks / this.ticksPerMs;
    }
    return ms;
  }

  /** The server's pid, found once (and again if that process is gone). */
  private serverPid(name: keyof typeof SERVERS): number | undefined {
    const known = this.serverPids.get(name);
    if (known !== undefined && cpuTicks(known) !== undefined) return known;
    const { port, command } = SERVERS[name];
    const pid = pidListening(port) ?? pidOf(command);
    this.serverPids.set(name, pid);
    return pid;
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
  // Fields after the command name: utime and stime are the 12th and 13th.
  const fields = statFields(pid);
  return fields && Number(fields[11]) + Number(fields[12]);
}

/**
 * The servers every run shares, by the port the services reach them on: other MariaDB or RabbitMQ
 * processes may run on the machine (a test's own, with its data in /tmp), and only the one serving
 * the system counts.
 */
const SERVERS = {
  mariadb: { port: Number(process.env.DB_PORT ?? 3306), command: 'mariadbd' },
  rabbitmq: { port: Number(new URL(process.env.RABBITMQ_URL ?? 'amqp://127.0.0.1').port || 5672), command: 'beam.smp' },
};

/** The pid of the process listening on TCP `port`: its socket's inode in /proc/net/tcp{,6}, then the process holding it. */
function pidListening(port: number): number | undefined {
  const sockets = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let lines: string[];
    try {
      lines = readFileSync(table, 'utf8').trim().split('\n').slice(1);
    } catch {
      continue;
    }
    for (const line of lines) {
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
      const fields = line.trim().split(/\s+/);
      const LISTEN = '0A';
      if (fields[3] === LISTEN && parseInt(fields[1].split(':')[1], 16) === port) sockets.add(`socket:[${fields[9]}]`);
    }
  }
  if (sockets.size === 0) return undefined;
  for (const pid of processIds()) {
    try {
      for (const fd of readdirSync(`/proc/${pid}/fd`)) if (sockets.has(readlinkSync(`/proc/${pid}/fd/${fd}`))) return pid;
    } catch {
      // Not ours to read, or it ended while we looked.
    }
  }
  return undefined;
}

/**
 * Without the right to read other processes' sockets: the first process whose command is `command`,
 * passing over those whose command line names /tmp (a test's own server).
 */
function pidOf(command: string): number | undefined {
  return processIds().find((pid) => {
    const args = commandLine(pid);
    return args !== undefined && args[0].includes(command) && !args.some((arg) => arg.includes('/tmp/'));
  });
}
