import { connect } from 'amqplib';
import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Rabbitmqctl } from './faults';

/**
 * A RabbitMQ node of one fault run's own, on a port of its own, so that the run can restart its
 * broker without disturbing anyone else who uses the machine's node. It runs from the RabbitMQ
 * installed on the machine, as this user, with its data in a temporary folder that it removes.
 */
export class PrivateRabbitmq {
  private constructor(
    readonly url: string,
    readonly ctl: Rabbitmqctl,
    private readonly server: ChildProcess,
    private readonly home: string,
  ) {}

  /**
   * The folder holding rabbitmq-server and rabbitmqctl scripts that run as the calling user:
   * Debian's packages put them in /usr/lib/rabbitmq/bin (the ones in /usr/sbin switch to the
   * rabbitmq user and its own logs), other installs on the PATH. Undefined when there is none.
   */
  static binDir(): string | undefined {
    const candidates = ['/usr/lib/rabbitmq/bin', ...(process.env.PATH ?? '').split(delimiter).filter(Boolean)];
    return candidates.find((dir) => {
      try {
        accessSync(join(dir, 'rabbitmq-server'), constants.X_OK);
        accessSync(join(dir, 'rabbitmqctl'), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
  }

  /** Starts node `chaos<port>@localhost` listening on 127.0.0.1:`port`; resolves once it takes connections. */
  static async start(port: number, output: (line: string) => void): Promise<PrivateRabbitmq> {
    const bin = PrivateRabbitmq.binDir();
    if (!bin) throw new Error('rabbitmq-server was not found (looked in /usr/lib/rabbitmq/bin and on the PATH)');
    const node = `chaos${port}@localhost`;
    const home = join(tmpdir(), `rabbitmq-${node}`);
    // A run that was killed (kill -9, a CI timeout) never stopped its node, which would hold this
    // one's name and port: the new node exits at start, and its rabbitmqctl talks to the old one.
    await stopLeftover(home);
    rmSync(home, { recursive: true, force: true });
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, 'rabbitmq.conf'), `listeners.tcp.1 = 127.0.0.1:${port}\n`);
    // No plugins: the machine's enabled ones (management on 15672, ...) would clash with its node.
    writeFileSync(join(home, 'enabled_plugins'), '[].\n');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      // The Erlang cookie that rabbitmqctl must share with the node is created in HOME.
      HOME: home,
      RABBITMQ_NODENAME: node,
      RABBITMQ_NODE_PORT: String(port),
      RABBITMQ_DIST_PORT: String(port + 20000),
      RABBITMQ_CONFIG_FILE: join(home, 'rabbitmq.conf'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(home, 'enabled_plugins'),
      RABBITMQ_MNESIA_BASE: join(home, 'mnesia'),
      RABBITMQ_LOG_BASE: join(home, 'log'),
      RABBITMQ_PID_FILE: join(home, 'pid'),
    };
    // Its own process group, so that stop() ends the shell script and the Erlang VM below it together.
    const server = spawn(join(bin, 'rabbitmq-server'), [], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [server.stdout!, server.stderr!]) {
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => chunk.split('\n').filter(Boolean).forEach(output));
    }
    const url = `amqp://guest:guest@127.0.0.1:${port}`;
    const broker = new PrivateRabbitmq(url, { command: join(bin, 'rabbitmqctl'), args: ['-n', node], env }, server, home);
    const giveUpAt = Date.now() + 90_000;
    for (;;) {
      if (server.exitCode !== null || server.signalCode !== null) throw new Error(`RabbitMQ node ${node} exited at start (see its output)`);
      try {
        await (await connect(url)).close();
        return broker;
      } catch (err) {
        if (Date.now() > giveUpAt) {
          await broker.stop();
          throw new Error(`RabbitMQ node ${node} did not take connections within 90 s: ${(err as Error).message}`, { cause: err });
        }
        await sleep(250);
      }
    }
  }

  /** Stops the node (SIGTERM, then SIGKILL of its process group after 30 s) and removes its data. */
  async stop(): Promise<void> {
    if (this.server.exitCode === null && this.server.signalCode === null) {
      const exited = once(this.server, 'exit');
      process.kill(-this.server.pid!, 'SIGTERM');
      const timer = setTimeout(() => process.kill(-this.server.pid!, 'SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.home, { recursive: true, force: true });
  }
}

/**
 * Kills what is left of a node that ran from `home` (its Erlang VM runs with `-home <home>`, as
 * start() sets HOME) and the process group it was started in, and waits until the VM is gone.
 * Its data is thrown away anyway. Linux only (it reads /proc); elsewhere it does nothing.
 */
async function stopLeftover(home: string): Promise<void> {
  const runsFrom = (pid: number): boolean => {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return args.some((arg, i) => arg === '-home' && args[i + 1] === home);
    } catch {
      return false; // gone, or not ours to read
    }
  };
  let pids: number[];
  try {
    pids = readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .map(Number)
      .filter(runsFrom);
  } catch {
    return;
  }
  for (const pid of pids) {
    // Field 5 of /proc/<pid>/stat, after the command in parentheses: the process group.
    const group = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[2]);
    for (const target of [group > 1 ? -group : pid, pid]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  const giveUpAt = Date.now() + 10_000;
  while (pids.some(runsFrom)) {
    if (Date.now() > giveUpAt)
      throw new Error(`a RabbitMQ node left running from ${home} (pids ${pids.join(', ')}) did not die on SIGKILL`);
    await sleep(50);
  }
}
