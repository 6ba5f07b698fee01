import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { running } from '../scripts/procfs';
import { resetNamespace } from '../scripts/system';
import { TestSystem } from './support/harness';

/**
 * The apps a launcher starts (npm start, every system test, the chaos run) stop when it is killed
 * outright (kill -9, a CI timeout), instead of running on beside the next run, holding its ports
 * and consuming its queues.
 */
jest.setTimeout(120_000);

/** A launcher of its own: a process that starts the four apps from dist/ (built by `npm test`) and prints their pids. */
async function startLauncher(env: Record<string, string>): Promise<{ launcher: ChildProcess; apps: Record<string, number> }> {
  const system = JSON.stringify(join(__dirname, '..', 'dist', 'scripts', 'system.js'));
  const script = `const { System, SERVICES } = require(${system});
    const system = new System({ env: ${JSON.stringify(env)}, output: () => undefined });
    system.start().then(
      () => console.log(JSON.stringify(Object.fromEntries(SERVICES.map((s) => [s, system.pid(s)])))),
      (err) => { console.error(err); process.exit(1); },
    );`;
  const launcher = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await Promise.race([once(createInterface({ input: launcher.stdout! }), 'line'), once(launcher, 'exit')])) as unknown[];
  if (typeof line !== 'string') throw new Error(`the launcher did not start the apps (exit ${String(line)})`);
  return { launcher, apps: JSON.parse(line) as Record<string, number> };
}

it('stops every app once its launcher is killed outright', async () => {
  const t = new TestSystem('launcher', 3931);
  const namespace = { ...t.env, RABBITMQ_URL: t.rmq.url };
  await resetNamespace(namespace);
  const { launcher, apps } = await startLauncher(t.env);
  try {
    expect(Object.values(apps).every(running)).toBe(true);
    launcher.kill('SIGKILL');
    await once(launcher, 'exit');
    // Each app stops as on SIGTERM: it finishes what it holds, within SHUTDOWN_TIMEOUT_MS (5 s by default).
    const giveUpAt = Date.now() + 30_000;
    while (Object.values(apps).some(running) && Date.now() < giveUpAt) await sleep(100);
    expect(Object.fromEntries(Object.entries(apps).filter(([, pid]) => running(pid)))).toEqual({});
  } finally {
    for (const pid of Object.values(apps)) if (running(pid)) process.kill(pid, 'SIGKILL');
    await resetNamespace(namespace);
  }
});
