import { connect } from 'amqplib';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PrivateRabbitmq } from '../scripts/rabbitmq-node';
import { testNamespace } from './support/harness';

/**
 * The fault runs' own RabbitMQ node (chaos, the chaos test): a run killed before it could stop its
 * node (kill -9, a CI timeout) must not keep the next run from starting one on the same port.
 */
jest.setTimeout(240_000);

const itWithRabbitmq = PrivateRabbitmq.binDir() !== undefined ? it : it.skip;

/** A process still running (a zombie has no command line). */
function running(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').length > 0;
  } catch {
    return false;
  }
}

itWithRabbitmq('starts in place of a node that a killed run left running', async () => {
  const { port } = testNamespace('rabbitmq-node', 3930);
  await PrivateRabbitmq.start(port, () => undefined);
  // The run that started it is killed: nobody calls stop(), the node runs on.
  const leftPid = Number(readFileSync(join(tmpdir(), `rabbitmq-chaos${port}@localhost`, 'pid'), 'utf8'));
  expect(running(leftPid)).toBe(true);
  let broker: PrivateRabbitmq | undefined;
  try {
    broker = await PrivateRabbitmq.start(port, () => undefined);
    expect(running(leftPid)).toBe(false);
    // Its rabbitmqctl reaches the new node (the old one would refuse the new Erlang cookie).
    const { stdout } = await promisify(execFile)(broker.ctl.command, [...broker.ctl.args, 'status'], { env: broker.ctl.env });
    expect(stdout).toContain(`chaos${port}@localhost`);
    await (await connect(broker.url)).close();
  } finally {
    await broker?.stop();
    if (running(leftPid)) process.kill(leftPid, 'SIGKILL');
  }
});
