import { connectUtc } from '@app/database';
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const MARIADBD = '/usr/sbin/mariadbd';

/**
 * A MariaDB server of one test file's own, for what must not be tried on the shared one (its
 * default time zone, say): a fresh data directory in a temporary folder, its own port and socket,
 * root with no password on 127.0.0.1. stop() ends it and removes its data.
 */
export class PrivateMariaDb {
  private dir?: string;
  private server?: ChildProcess;
  private readonly stderr: string[] = [];
  private readonly killOnExit = () => this.server?.kill('SIGKILL');

  /** `options` are extra mariadbd options, e.g. `--default-time-zone=-07:00`. */
  constructor(
    readonly port: number,
    private readonly options: string[] = [],
  ) {}

  async start(timeoutMs = 20_000): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), `mariadb-${this.port}-`));
    const data = join(this.dir, 'data');
    // mariadbd runs as root only when told to (CI runs as root); as anyone else, --user is that user.
    const user = `--user=${userInfo().username}`;
    await promisify(execFile)('mariadb-install-db', [
      '--no-defaults',
      `--datadir=${data}`,
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
      user,
    ]);
    this.server = spawn(
      MARIADBD,
      [
        '--no-defaults',
        `--datadir=${data}`,
        `--port=${this.port}`,
        '--bind-address=127.0.0.1',
        `--socket=${join(this.dir, 'mariadb.sock')}`,
        `--pid-file=${join(this.dir, 'mariadb.pid')}`,
        user,
        '--innodb-buffer-pool-size=64M',
        ...this.options,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    this.server.stderr!.setEncoding('utf8').on('data', (chunk: string) => this.stderr.push(chunk));
    // An aborted run (a test file's timeout, Ctrl-C) must not leave a server behind.
    process.once('exit', this.killOnExit);

    const giveUpAt = Date.now() + timeoutMs;
    for (;;) {
      if (this.server.exitCode !== null || this.server.signalCode !== null) {
        throw new Error(`mariadbd exited (${this.server.exitCode ?? this.server.signalCode}): ${this.stderr.join('')}`);
      }
      try {
        // Ours, not a server some earlier run left on this port.
        if ((await this.query<{ datadir: string }>('SELECT @@datadir AS datadir'))[0].datadir.startsWith(data)) return;
      } catch (err) {
        if (Date.now() > giveUpAt)
          throw new Error(`mariadbd did not accept connections on ${this.port}: ${(err as Error).message}`, { cause: err });
      }
      if (Date.now() > giveUpAt) throw new Error(`another server answers on ${this.port}`);
      await sleep(100);
    }
  }

  private async query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    const db = await connectUtc({ host: '127.0.0.1', port: this.port, user: 'root', password: '' });
    try {
      const [rows] = await db.query(sql, params);
      return rows as T[];
    } finally {
      await db.end();
    }
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server && server.exitCode === null && server.signalCode === null) {
      const exited = once(server, 'exit');
      server.kill('SIGTERM');
      const timer = setTimeout(() => server.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    process.off('exit', this.killOnExit);
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}
