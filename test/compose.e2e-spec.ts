import { ClassConstructor } from 'class-transformer';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { Queue, queueName } from '@app/contracts';
import { validateEnv } from '@app/platform';
import { connect } from 'amqplib';
import { DeliveryEnv } from '../apps/delivery/src/config/delivery.env';
import { GatewayEnv } from '../apps/gateway/src/config/gateway.env';
import { OrderEnv } from '../apps/order/src/config/order.env';
import { StoreEnv } from '../apps/store/src/config/store.env';
import { APP_NODE_FLAGS } from '../scripts/system';
import { TestSystem } from './support/harness';

jest.setTimeout(60_000);

/*
 * No Docker engine runs here, so this reads docker-compose.yml, the Dockerfile and docker/mysql-init
 * and checks them against the apps themselves: their env classes, entry points and scripts.
 */
const ROOT = join(__dirname, '..');
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');
const compose = parse(read('docker-compose.yml'), { merge: true });
const dockerfile = read('Dockerfile');
const ENV_CLASSES: Record<string, ClassConstructor<object>> = {
  gateway: GatewayEnv,
  order: OrderEnv,
  store: StoreEnv,
  delivery: DeliveryEnv,
};

type Service = Record<string, any>;
const services = Object.entries(compose.services as Record<string, Service>);
const apps = services.filter(([, s]) => s.build);
const appOf = (service: Service): string => service.build.args.APP;

/** What an operator sets for the variables compose requires (`${X:?message}`): it refuses to start without them. */
const REQUIRED: Record<string, string> = {
  ADMIN_API_KEY: 'an-operator-chosen-secret-4f9c2e',
  ORDER_ID_SECRET: 'another-operator-secret-77d1a0',
};

/**
 * Compose interpolation with only the required variables set: `${X:-default}` is the default,
 * `${X:?message}` the operator's value, `$$` a `$`.
 */
function interpolate(value: string): string {
  return String(value)
    .replace(/\$\{(\w+):\?[^}]*\}/g, (_, name: string) => {
      if (!(name in REQUIRED)) throw new Error(`compose requires ${name}; add a sample value to REQUIRED`);
      return REQUIRED[name];
    })
    .replace(/\$\{(\w+)(?::?-([^}]*))?\}/g, (_, _name, fallback) => fallback ?? '')
    .replace(/\$\$/g, '$');
}
const environment = (service: Service): Record<string, string> =>
  Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, interpolate(String(v))]));
/** The app's configuration as it would boot in this container: the env class with the compose values. */
const configOf = (service: Service): Record<string, unknown> => ({ ...validateEnv(ENV_CLASSES[appOf(service)])(environment(service)) });

describe('docker-compose.yml', () => {
  it('runs MySQL 8 and RabbitMQ with its management UI on 15672, each with a healthcheck', () => {
    expect(compose.services.mysql.image).toMatch(/^mysql:8/);
    expect(compose.services.rabbitmq.image).toMatch(/^rabbitmq:.*management/);
    expect(compose.services.rabbitmq.ports).toContain('15672:15672');
    for (const name of ['mysql', 'rabbitmq']) expect(compose.services[name].healthcheck?.test).toBeDefined();
  });

  it('runs each of the four apps, built from the one Dockerfile, with a second instance of each in the scale profile', () => {
    const main = apps.filter(([, s]) => !s.profiles).map(([, s]) => appOf(s));
    const scaled = apps.filter(([, s]) => s.profiles?.includes('scale')).map(([, s]) => appOf(s));
    expect(main.sort()).toEqual(Object.keys(ENV_CLASSES).sort());
    expect(scaled.sort()).toEqual(Object.keys(ENV_CLASSES).sort());
    for (const [name, service] of apps) {
      expect([name, existsSync(join(ROOT, `apps/${appOf(service)}/src/main.ts`))]).toEqual([name, true]);
      expect([name, service.build.context]).toEqual([name, '.']);
      expect([name, service.build.dockerfile ?? 'Dockerfile']).toEqual([name, 'Dockerfile']);
    }
  });

  it('gives every app restart unless-stopped, a healthcheck, and starts it only once what it depends on is healthy', () => {
    for (const [name, service] of apps) {
      expect([name, service.restart]).toEqual([name, 'unless-stopped']);
      expect([name, Array.isArray(service.healthcheck?.test)]).toEqual([name, true]);
      const dependencies = Object.entries(service.depends_on ?? {}) as [string, { condition: string }][];
      expect([name, dependencies.length > 0]).toEqual([name, true]);
      for (const [dependency, { condition }] of dependencies) {
        expect([name, dependency, condition]).toEqual([name, dependency, 'service_healthy']);
        expect([name, dependency, compose.services[dependency]?.healthcheck?.test !== undefined]).toEqual([name, dependency, true]);
      }
    }
    // The gateway waits for the services it calls; they wait for their broker and database.
    expect(Object.keys(compose.services.gateway.depends_on).sort()).toEqual(['delivery', 'order', 'rabbitmq', 'store']);
    expect(Object.keys(compose.services.store.depends_on).sort()).toEqual(['mysql', 'rabbitmq']);
  });

  it('sets only variables the app reads, with values its configuration accepts, pointing at services that exist', () => {
    for (const [name, service] of apps) {
      const known = Object.keys(new ENV_CLASSES[appOf(service)]());
      for (const variable of Object.keys(service.environment ?? {}))
        expect([name, variable, known.includes(variable)]).toEqual([name, variable, true]);
      const config = configOf(service);
      const brokerHost = new URL(String(config.RABBITMQ_URL)).hostname;
      expect([name, brokerHost, brokerHost in compose.services]).toEqual([name, brokerHost, true]);
      expect(Object.keys(service.depends_on)).toContain(brokerHost);
      if ('DB_HOST' in config) {
        expect([name, String(config.DB_HOST) in compose.services]).toEqual([name, true]);
        expect(Object.keys(service.depends_on)).toContain(config.DB_HOST);
        expect(String(config.DB_PASSWORD)).toBe(interpolate(compose.services[String(config.DB_HOST)].environment.MYSQL_ROOT_PASSWORD));
      }
    }
  });

  it('runs two partitions in the partitions profile: store, delivery and order of each, one gateway with the same map', () => {
    const partitioned = apps.filter(([, s]) => s.profiles?.includes('partitions'));
    const maps = new Set(partitioned.map(([, s]) => s.environment.PARTITION_MAP));
    expect(maps.size).toBe(1);
    const byPartition = partitioned.map(([, s]) => `${configOf(s).PARTITION || 'router'}:${appOf(s)}`).sort();
    expect(byPartition).toEqual(['p1:delivery', 'p1:order', 'p1:store', 'p2:delivery', 'p2:order', 'p2:store', 'router:gateway']);
    // Each partition's services on its own queues and databases (validateEnv took them from the map).
    const prefixes = partitioned.filter(([, s]) => appOf(s) === 'store').map(([, s]) => configOf(s).QUEUE_PREFIX);
    expect(prefixes).toEqual(['p1.', 'p2.']);
  });

  it('publishes only ports an app listens on, each app instance on its own host port', () => {
    const hostPorts: string[] = [];
    for (const [name, service] of apps) {
      const config = configOf(service);
      // PORT, METRICS_PORT, ...: every *PORT variable but the database's is a port the app listens on.
      const listening = Object.entries(config)
        .filter(([key]) => /(^|_)PORT$/.test(key) && key !== 'DB_PORT')
        .map(([, value]) => String(value));
      for (const mapping of (service.ports ?? []) as string[]) {
        const [host, container] = mapping.split(':');
        expect([name, mapping, listening.includes(container)]).toEqual([name, mapping, true]);
        hostPorts.push(host);
      }
    }
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
    expect(compose.services.gateway.ports).toContain('3000:3000');
  });

  it('creates, in the MySQL init script, the database each service is configured with', () => {
    const init = readdirSync(join(ROOT, 'docker/mysql-init'))
      .map((file) => read(`docker/mysql-init/${file}`))
      .join('\n');
    const created = [...init.matchAll(/CREATE DATABASE IF NOT EXISTS `?(\w+)`?/gi)].map((m) => m[1]);
    const mounted = (compose.services.mysql.volumes as string[]).find((v) => v.includes('/docker-entrypoint-initdb.d'));
    expect(mounted).toMatch(/^\.\/docker\/mysql-init:/);
    const configured = apps.flatMap(([, s]) =>
      Object.entries(configOf(s))
        .filter(([key]) => key.endsWith('_DB_NAME'))
        .map(([, value]) => String(value)),
    );
    expect([...new Set(configured)].sort()).toEqual([...created].sort());
  });

  it('runs only scripts the build produces in its healthchecks, and documents every variable it reads from .env', () => {
    for (const [name, service] of apps) {
      for (const file of (service.healthcheck.test as string[]).filter((part) => part.startsWith('dist/'))) {
        const source = file.replace(/^dist\//, '').replace(/\.js$/, '.ts');
        expect([name, source, existsSync(join(ROOT, source))]).toEqual([name, source, true]);
      }
    }
    const raw = read('docker-compose.yml').replace(/^\s*#.*$/gm, '');
    const example = read('.env.example');
    for (const [, variable] of raw.matchAll(/\$\{(\w+)/g)) expect([variable, example.includes(variable)]).toEqual([variable, true]);
  });
});

describe('Dockerfile', () => {
  const stages = [...dockerfile.matchAll(/^FROM\s+\S+\s+AS\s+(\S+)/gim)].map((m) => m[1]);

  it('is multi-stage: copies from its own stages only, and builds each app chosen by APP', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const [, stage] of dockerfile.matchAll(/--from=(\S+)/g)) expect(stages).toContain(stage);
    for (const [name, service] of apps)
      if (service.build.target) expect([name, stages.includes(service.build.target)]).toEqual([name, true]);
    expect(dockerfile).toMatch(/^ARG APP$/m);
    expect(dockerfile).toMatch(/^CMD .*node (--\S+ )*dist\/apps\/\$APP\/src\/main\.js/m);
    expect(dockerfile).toMatch(/npm run build/);
  });

  it('starts each app with the V8 flags npm start, the tests and the bench give it (APP_NODE_FLAGS), as do the start:<app> scripts', () => {
    const flags = APP_NODE_FLAGS.join(' ');
    expect(/^CMD .*node ((--\S+ )*)dist\/apps\/\$APP\/src\/main\.js/m.exec(dockerfile)![1].trim()).toBe(flags);
    const scripts = JSON.parse(read('package.json')).scripts as Record<string, string>;
    for (const app of Object.keys(ENV_CLASSES)) expect(scripts[`start:${app}`]).toBe(`node ${flags} dist/apps/${app}/src/main.js`);
  });

  it('copies from the build context only files that exist and .dockerignore lets through, and everything the build compiles', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'));
    const copied = [...dockerfile.matchAll(/^COPY\s+(?!--from)(.+)$/gm)].flatMap((m) => m[1].trim().split(/\s+/).slice(0, -1));
    for (const source of copied) {
      expect([source, existsSync(join(ROOT, source))]).toEqual([source, true]);
      expect([source, ignored.includes(source)]).toEqual([source, false]);
    }
    // The apps' sources and the scripts the healthchecks run are compiled in the image.
    expect(copied).toEqual(expect.arrayContaining(['apps', 'libs', 'scripts', 'package.json', 'package-lock.json', 'tsconfig.build.json']));
  });

  it("builds the live page's files into dist/, which the runtime stage copies: the gateway reads them from there at start-up", () => {
    const page = 'apps/gateway/src/live/page';
    const files = readdirSync(join(ROOT, page));
    expect(files).toEqual(expect.arrayContaining(['index.html', 'live.css', 'live.js']));
    for (const file of files) expect([file, read(join('dist', page, file))]).toEqual([file, read(join(page, file))]);
    expect(dockerfile).toMatch(/^COPY --from=build \/app\/dist \.\/dist$/m);
  });

  it('runs the Node line the suite is also tested on (scripts/node24.sh), one package.json says it supports', () => {
    const tested = /^VERSION=(\d+)\./m.exec(read('scripts/node24.sh'))![1];
    const images = [...dockerfile.matchAll(/^FROM\s+node:(\d+)-\S+\s+AS/gim)].map((m) => m[1]);
    expect(images).toEqual(stages.map(() => tested));
    expect(JSON.parse(read('package.json')).engines.node.split(/\s*\|\|\s*/)).toContain(`^${tested}.0.0`);
  });
});

describe('the container healthcheck, scripts/healthcheck.ts', () => {
  const t = new TestSystem('compose', 3905);
  const healthcheck = (app: string) =>
    promisify(execFile)(process.execPath, [join(ROOT, 'dist/scripts/healthcheck.js'), app], { env: { ...process.env, ...t.env } }).then(
      () => 0,
      (err: { code: number }) => err.code,
    );

  afterAll(async () => {
    await t.stop();
    // The probe of the delivery nobody runs declared its queues; leave no request waiting in them.
    const broker = await connect(t.rmq.url);
    const channel = await broker.createChannel();
    for (const queue of [Queue.DELIVERY, Queue.DELIVERY_ADMIN]) await channel.deleteQueue(queueName(t.env.QUEUE_PREFIX, queue));
    await broker.close();
  });

  it('exits 0 for a service that answers over RabbitMQ, 1 for one that does not and for the gateway when it is down', async () => {
    t.system.spawn('store');
    await t.until(async () => (await healthcheck('store')) === 0, 30_000, 'the store to answer its healthcheck');
    expect(await healthcheck('delivery')).toBe(1);
    expect(await healthcheck('gateway')).toBe(1);
  });
});
