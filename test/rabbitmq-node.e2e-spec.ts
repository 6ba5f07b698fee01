import { connect } from 'amqplib';
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { running } from '../scripts/procfs';
import { PrivateRabbitmq } from '../scripts/rabbitmq-node';
import { testNamespace } from './support/harness';

/**
 * The fault runs' own RabbitMQ node (chaos, the chaos test): a run killed before it could stop its
 * node (kill -9, a CI timeout) must not keep the next run from starting one on the same port, and
 * a run still going must not lose its node to another run started on its port.
 */
jest.setTimeout(240_000);

const itWithRabbitmq = PrivateRabbitmq.binDir() !== undefined ? it : it.skip;

/** Another run: a process that starts a node on `port` (from dist/, built by `npm test`) and keeps it. */
async function startRun(port: number): Promise<ChildProcess> {
  const script = `require(${JSON.stringify(join(__dirname, '..', 'dist', 'scripts', 'rabbitmq-node.js'))})
    .PrivateRabbitmq.start(${port}, () => undefined).then(() => console.log('started'), (err) => { console.error(err); process.exit(1); });`;
  const run = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await Promise.race([once(createInterface({ input: run.stdout! }), 'line'), once(run, 'exit')])) as unknown[];
  if (line !== 'started') throw new Error(`the other run did not start its node (exit ${String(line)})`);
  return run;
}

itWithRabbitmq('refuses the port of a run still going, and starts in place of the node of a run that was killed', async () => {
  const { port } = testNamespace('rabbitmq-node', 3930);
  const home = join(tmpdir(), `rabbitmq-chaos${port}@localhost`);
  const other = await startRun(port);
  const otherNode = Number(readFileSync(join(home, 'pid'), 'utf8'));
  let broker: PrivateRabbitmq | undefined;
  let refused: Promise<PrivateRabbitmq> | undefined;
  try {
    expect(running(otherNode)).toBe(true);
    refused = PrivateRabbitmq.start(port, () => undefined);
    await expect(refused).rejects.toThrow(`belongs to a run still going (pid ${other.pid})`);
    expect(running(otherNode)).toBe(true);

    // The other run is killed: nobody stops its node, which runs on.
    other.kill('SIGKILL');
    await once(other, 'exit');
    expect(running(otherNode)).toBe(true);

    broker = await PrivateRabbitmq.start(port, () => undefined);
    expect(running(otherNode)).toBe(false);
    // Its rabbitmqctl reaches the new node (the old one would refuse the new Erlang cookie).
    const { stdout } = await promisify(execFile)(broker.ctl.command, [...broker.ctl.args, 'status'], { env: broker.ctl.env });
    expect(stdout).toContain(`chaos${port}@localhost`);
    await (await connect(broker.url)).close();
  } finally {
    other.kill('SIGKILL');
    await refused?.then(
      (wronglyStarted) => wronglyStarted.stop(),
      () => undefined,
    );
    await broker?.stop();
    // Whatever the outcome, no node of this test outlives it.
    if (running(otherNode)) process.kill(otherNode, 'SIGKILL');
  }
});
