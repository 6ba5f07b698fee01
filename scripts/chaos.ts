import { config as loadDotenv } from 'dotenv';
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { runChaos } from './chaos/run';

const HELP = `npm run chaos -- [options]

A randomized fault run: two instances of every app on databases and queues of its own
(<prefix>store, <prefix>delivery, <prefix>orders), clients placing carts of 1 to 3 lines across
two dark stores (and single-food orders to the default store) with Idempotency-Keys (retries,
races through both gateways, a key sent again with another cart), admins marking orders
delivered and adding packets and agents to each store, while faults happen: kill -9 and restart
of any instance, SIGSTOP of an order instance past its lease, bursts of killed database sessions
(of this run's databases only), and broker restarts. Then it lets the system settle and checks every invariant and every answer
against the databases. It prints its seed at the start and one summary line (JSON) at the end,
writes the details and the apps' log to --out, and exits 1 if anything was wrong.

  --duration <s>       how long clients and faults run (default 150)
  --clients <n>        concurrent clients (default 12)
  --seed <n>           the seed of the faults and requests (default: random); the same seed gives
                       the same faults at the same times and the same requests, their timing aside
  --broker own|shared  own (default): the run starts a RabbitMQ node of its own on port --port + 8
                       (rabbitmq-server from /usr/lib/rabbitmq/bin or the PATH, data in a temporary
                       folder) and restarts it with \`rabbitmqctl -n chaos<port>@localhost stop_app\`,
                       then \`start_app\`, so nobody else's broker is disturbed.
                       shared: the apps use RABBITMQ_URL and the restart is the machine's
                       \`rabbitmqctl stop_app\` / \`start_app\`: every user of that broker sees it.
  --no-broker-restart  no broker restart (one per 100 s of --duration otherwise, at least one)
  --port <n>           first of the 9 ports the run uses (default 4100): gateways on <n> and <n>+1,
                       the services' /health on <n>+2 to <n>+7, its own broker on <n>+8
  --prefix <p>         prefix of its queues and databases (default chaos_); they are dropped at start
  --out <dir>          where the diagnostics (.json) and the apps' log (.log) go (default logs/)
  --help               this text
`;

const { values: args } = parse();

function parse() {
  try {
    return parseArgs({
      options: {
        duration: { type: 'string', default: '150' },
        clients: { type: 'string', default: '12' },
        seed: { type: 'string' },
        broker: { type: 'string', default: 'own' },
        'no-broker-restart': { type: 'boolean', default: false },
        port: { type: 'string', default: '4100' },
        prefix: { type: 'string', default: 'chaos_' },
        out: { type: 'string', default: join(__dirname, '..', '..', 'logs') },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    return fail((error as Error).message);
  }
}

/** A bad command line: one line on stderr, exit 2, before anything starts. */
function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

/** A whole-number option within bounds, checked before anything starts (a typo would otherwise run as NaN). */
function whole(name: 'duration' | 'clients' | 'seed' | 'port', min: number, max: number, value = args[name]): number {
  if (!/^\d+$/.test(value ?? '') || Number(value) < min || Number(value) > max) {
    fail(`--${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

if (args.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const options = {
  durationS: whole('duration', 10, 86_400),
  clients: whole('clients', 1, 1000),
  seed: args.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : whole('seed', 0, 2 ** 31 - 1),
  port: whole('port', 1024, 65_535 - 20_008),
};
if (args.broker !== 'own' && args.broker !== 'shared') fail(`--broker must be own or shared, got ${JSON.stringify(args.broker)}`);
if (!/^[A-Za-z0-9_]{1,40}$/.test(args.prefix))
  fail(`--prefix may hold only 1 to 40 letters, digits and _, got ${JSON.stringify(args.prefix)}`);

const aborted = new AbortController();

async function main(): Promise<void> {
  // The .env the apps read, so that the run and its checker use the database and broker they do.
  loadDotenv({ quiet: true });
  // Stops everything the run started (apps, broker node) before exiting.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => aborted.abort());
  console.log(`chaos: seed ${options.seed}, ${options.durationS} s, ${options.clients} clients (repeat with --seed ${options.seed})`);
  const result = await runChaos({
    ...options,
    prefix: args.prefix,
    broker: args.broker as 'own' | 'shared',
    brokerRestarts: !args['no-broker-restart'],
    outDir: args.out,
    progress: (line) => console.error(line),
    signal: aborted.signal,
  });
  console.log(JSON.stringify(result.summary));
  process.exitCode = result.ok ? 0 : 1;
}

main().catch((err: Error) => {
  console.error(aborted.signal.aborted ? 'chaos: interrupted; everything it started is stopped' : `chaos failed: ${err.message}`);
  process.exit(aborted.signal.aborted ? 130 : 1);
});
