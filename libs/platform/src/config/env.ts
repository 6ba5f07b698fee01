import { ClassConstructor, plainToInstance } from 'class-transformer';
import { applyDecorators } from '@nestjs/common';
import { IsIn, IsInt, IsString, Matches, Max, Min, MinLength, ValidateBy, validateSync } from 'class-validator';
import { bootLogger } from '../observability/logging';
import { RmqQueueType, RmqSettings } from '../transport/rmq-options';
import { partitionOrderIdSecret } from '@app/contracts';
import { Partition, PartitionMap, parsePartitionMap, partitionSettings } from './partition-map';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;

/** Variables every app reads. Defaults match the local MariaDB/RabbitMQ of a development machine. */
export class RabbitEnv {
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: string = 'development';

  @Matches(/^amqps?:\/\/\S+$/, { message: 'RABBITMQ_URL must be an amqp:// or amqps:// URL' })
  RABBITMQ_URL: string = 'amqp://guest:guest@127.0.0.1:5672';

  @Matches(/^[A-Za-z0-9_.-]*$/, { message: 'QUEUE_PREFIX may hold only letters, digits, _ . and -' })
  QUEUE_PREFIX: string = '';

  @IsInt()
  @Min(1)
  @Max(1000)
  RMQ_PREFETCH: number = 32;

  /**
   * The same for a participant's admin queue (listings, stock and staff additions): small, so the
   * admin work one instance runs at once stays small and the rest waits in the queue, where a read
   * whose caller gave up expires unrun.
   */
  @IsInt()
  @Min(1)
  @Max(1000)
  RMQ_ADMIN_PREFETCH: number = 2;

  @IsInt()
  @Min(50)
  @Max(120_000)
  RPC_TIMEOUT_MS: number = 2000;

  /**
   * Group commit (see Batcher): the most orders one message carries on a hop that batches (gateway
   * to order, coordinator to store and delivery, the coordinator's log); 1 turns batching off.
   */
  @IsInt()
  @Min(1)
  @Max(256)
  BATCH_MAX: number = 64;

  /** Batches a hop keeps in flight at once; the next one forms while they are out (calls made side by side leave together). */
  @IsInt()
  @Min(1)
  @Max(64)
  BATCH_IN_FLIGHT: number = 1;

  /** Address the app's HTTP server binds to: the gateway's API, a service's /metrics and /health. */
  @IsString()
  HOST: string = '0.0.0.0';

  @IsIn(LOG_LEVELS)
  LOG_LEVEL: (typeof LOG_LEVELS)[number] = 'info';

  /** auto: human-readable when stdout is a terminal, JSON lines otherwise. */
  @IsIn(LOG_FORMATS)
  LOG_FORMAT: (typeof LOG_FORMATS)[number] = 'auto';

  /** On SIGTERM, how long messages and requests in flight may take to finish before the app exits anyway. */
  @IsInt()
  @Min(0)
  @Max(120_000)
  SHUTDOWN_TIMEOUT_MS: number = 5000;

  /** Type of the request queues; every app must use the same, and an existing queue keeps its type. */
  @IsIn(['classic', 'quorum'])
  RMQ_QUEUE_TYPE: RmqQueueType = 'classic';

  /**
   * The partitions of the deployment (docs/partitions.md): a JSON file's path, or the JSON itself.
   * Empty: one partition, as configured by QUEUE_PREFIX and the *_DB_NAME variables.
   */
  @IsString()
  PARTITION_MAP: string = '';

  /**
   * A service's partition of PARTITION_MAP: its queue prefix, its database and (store) its range of
   * store ids come from the map; set explicitly too, they must agree with it.
   */
  @IsString()
  PARTITION: string = '';

  /** A service runs in one partition (PARTITION); a gateway ('router') routes to every partition of the map. */
  partitionRole(): 'service' | 'router' {
    return 'service';
  }
}

/** The HTTP port of a service's /metrics and /health; 0 takes any free port (logged at start). */
export function IsMetricsPort(): PropertyDecorator {
  return applyDecorators(IsInt(), Min(0), Max(65535));
}

/** Settings whose values a configuration error must not print (they end up in logs). */
const SECRET_SETTINGS = new Set<string>();

/**
 * A secret setting: 16+ printable characters, and in production not `placeholder`, the value
 * `.env.example` and `npm start` use on a development machine.
 */
export function IsSecret(placeholder: string): PropertyDecorator {
  return applyDecorators(
    (_target: object, property: string | symbol) => void SECRET_SETTINGS.add(String(property)),
    IsString(),
    MinLength(16),
    Matches(/^[\x21-\x7e]+$/, { message: ({ property }) => `${property} may hold only printable ASCII characters, no spaces` }),
    ValidateBy({
      name: 'ownSecretInProduction',
      validator: {
        validate: (value, args) => (args?.object as RabbitEnv).NODE_ENV !== 'production' || value !== placeholder,
        defaultMessage: (args) =>
          `${args?.property} must be set to a secret of your own when NODE_ENV=production (the .env.example value "${placeholder}" is refused)`,
      },
    }),
  );
}

/** The ORDER_ID_SECRET of `.env.example` and `npm start`; refused in production. */
export const DEV_ORDER_ID_SECRET = 'dev-order-id-secret-change-me';

export function rmqSettings(env: RabbitEnv): RmqSettings {
  return { url: env.RABBITMQ_URL, queuePrefix: env.QUEUE_PREFIX, prefetch: env.RMQ_PREFETCH, queueType: env.RMQ_QUEUE_TYPE };
}

/**
 * Builds the `validate` function for ConfigModule: the app refuses to start, naming every bad
 * variable and what it expects, instead of running half-configured.
 */
export function validateEnv<T extends object>(envClass: ClassConstructor<T>) {
  return (raw: Record<string, unknown>): T => {
    const known = Object.keys(new envClass());
    const picked = Object.fromEntries(Object.entries(raw).filter(([key, value]) => known.includes(key) && value !== ''));
    const partitioned = applyPartition(new envClass() as unknown as RabbitEnv, picked, known);
    const env = plainToInstance(envClass, picked, { enableImplicitConversion: true });
    const errors = validateSync(env, { forbidUnknownValues: true });
    const lines = [
      ...errors.map((e) => `  ${e.property}=${shown(e.property, raw[e.property])}: ${Object.values(e.constraints ?? {}).join('; ')}`),
      ...partitioned.problems.map((problem) => `  ${problem}`),
    ];
    if (lines.length > 0) throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
    // A partition other than the default store's signs its order ids with a key of its own, so an
    // id says which partition holds the order (see partitionOrderIdSecret).
    const { partition, map } = partitioned;
    if (partition && map && partition !== map.default && 'ORDER_ID_SECRET' in env) {
      Object.assign(env, { ORDER_ID_SECRET: partitionOrderIdSecret(String(env.ORDER_ID_SECRET), partition.name) });
    }
    return env;
  };
}

/**
 * Reads PARTITION_MAP and, for a service, PARTITION: puts the partition's settings into `picked`
 * (those the app has), and lists what is wrong: a bad map, a partition not in it, an explicit
 * setting that disagrees with the map, a gateway given a PARTITION or a QUEUE_PREFIX it would ignore.
 */
function applyPartition(
  defaults: RabbitEnv,
  picked: Record<string, unknown>,
  known: string[],
): { problems: string[]; partition?: Partition; map?: PartitionMap } {
  const [source, name] = [String(picked.PARTITION_MAP ?? ''), String(picked.PARTITION ?? '')];
  const role = defaults.partitionRole();
  const problems: string[] = [];
  if (role === 'router' && name) problems.push(`PARTITION=${JSON.stringify(name)}: a gateway routes to every partition; leave it unset`);
  if (role === 'service' && name && !source)
    problems.push(`PARTITION=${JSON.stringify(name)}: needs PARTITION_MAP, the map it names a partition of`);
  if (!source) return { problems };
  let map: PartitionMap;
  try {
    map = new PartitionMap(parsePartitionMap(source), true);
  } catch (err) {
    return { problems: [...problems, `PARTITION_MAP: ${(err as Error).message}`] };
  }
  if (role === 'router') {
    if (picked.QUEUE_PREFIX)
      problems.push("QUEUE_PREFIX: must be unset with PARTITION_MAP: a gateway takes each partition's prefix from the map");
    return { problems, map };
  }
  const partition = map.named(name);
  if (!partition) {
    problems.push(`PARTITION=${JSON.stringify(name)}: must name this service's partition of PARTITION_MAP (${map.names.join(', ')})`);
    return { problems, map };
  }
  for (const [key, value] of Object.entries(partitionSettings(partition))) {
    if (!known.includes(key)) continue;
    if (picked[key] !== undefined && String(picked[key]) !== value) {
      problems.push(
        `${key}=${JSON.stringify(picked[key])}: disagrees with partition ${name} of PARTITION_MAP (${JSON.stringify(value)}); leave it unset`,
      );
    }
    picked[key] = value;
  }
  return { problems, partition, map };
}

/** A bad value as an error may show it: secrets only by length, URLs without their password. */
function shown(property: string, value: unknown): string {
  if (typeof value !== 'string') return JSON.stringify(value ?? null);
  if (SECRET_SETTINGS.has(property)) return `<${value.length} characters, not shown>`;
  return JSON.stringify(value.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@'));
}

/** Validates the environment at start-up; on any bad variable, says which and exits non-zero. */
export function loadEnvOrExit<T extends object>(envClass: ClassConstructor<T>, app: string): T {
  try {
    return validateEnv(envClass)(process.env);
  } catch (err) {
    // Logged as every line of the app is, with the defaults: the settings of the log are what failed.
    bootLogger(app, new RabbitEnv()).fatal((err as Error).message);
    process.exit(1);
  }
}
