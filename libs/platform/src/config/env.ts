import { ClassConstructor, plainToInstance } from 'class-transformer';
import { applyDecorators } from '@nestjs/common';
import { IsIn, IsInt, IsString, Matches, Max, Min, MinLength, ValidateBy, validateSync } from 'class-validator';
import { bootLogger } from '../observability/logging';
import { RmqQueueType, RmqSettings } from '../transport/rmq-options';

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

  /** Batches a hop keeps in flight at once; the next one forms while they are out. */
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
    const env = plainToInstance(envClass, picked, { enableImplicitConversion: true });
    const errors = validateSync(env, { forbidUnknownValues: true });
    if (errors.length > 0) {
      const lines = errors.map(
        (e) => `  ${e.property}=${shown(e.property, raw[e.property])}: ${Object.values(e.constraints ?? {}).join('; ')}`,
      );
      throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
    }
    return env;
  };
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
