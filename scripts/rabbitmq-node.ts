import { connect } from 'amqplib';
import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Rabbitmqctl } from './faults';
import { commandLine, processIds, statFields } from './procfs';

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
    await stopLeftover(home, node);
    rmSync(home, { recursive: true, force: true });
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, OWNER_FILE), processIdentity(process.pid) ?? String(process.pid));
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
        const connection = await connect(url);
        const name = (connection.connection as unknown as { serverProperties?: { cluster_name?: string } }).serverProperties?.cluster_name;
        await connection.close();
        // Another node on the port (one left from a run with another temporary folder): this one
        // cannot listen and exits, which the check above then reports.
        // (Its cluster name is the node's name with the machine's host name: chaos<port>@<host>.)
        if (name?.split('@')[0] !== node.split('@')[0]) throw new Error(`port ${port} is served by RabbitMQ node ${name}, not ${node}`);
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

/** In a node's folder: the run that started it, as processIdentity() gives it. */
const OWNER_FILE = 'owner';

/** A process's pid and start time (field 22 of /proc/<pid>/stat): a pid used again later is another process. */
function processIdentity(pid: number): string | undefined {
  const fields = statFields(pid);
  return fields ? `${pid} ${fields[19]}` : undefined;
}

/**
 * Kills what is left of a node that ran from `home` (its Erlang VM and rabbitmqctl run with
 * `-home <home>`, as start() sets HOME) once the run that started it is gone, and the process group
 * it was started in, then waits until they are gone; its data is thrown away anyway. A node whose
 * run is still going is left alone: that is an error (two runs on one port). Linux only (it reads
 * /proc); elsewhere it does nothing.
 */
async function stopLeftover(home: string, node: string): Promise<void> {
  let owner: string | undefined;
  try {
    owner = readFileSync(join(home, OWNER_FILE), 'utf8');
  } catch {
    // no node started from there, or one of a version without the file
  }
  const ownerPid = Number(owner?.split(' ')[0]);
  if (owner !== undefined && ownerPid !== process.pid && processIdentity(ownerPid) === owner) {
    throw new Error(`RabbitMQ node ${node} belongs to a run still going (pid ${ownerPid}): give this run another port`);
  }
  const runsFrom = (pid: number): boolean => {
    const args = commandLine(pid);
    return args !== undefined && args.some((arg, i) => arg === '-home' && args[i + 1] === home);
  };
  const pids = processIds().filter(runsFrom);
  const ownGroup = Number(statFields('self')?.[2]);
  for (const pid of pids) {
    // start() made the node's group its own (detached); never signal the group this process is in.
    const group = Number(statFields(pid)?.[2]);
    for (const target of group > 1 && group !== ownGroup ? [-group, pid] : [pid]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EPERM') {
          throw new Error(`a RabbitMQ node left running from ${home} (pid ${pid}) belongs to another user`, { cause: err });
        }
        // ESRCH: already gone
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
