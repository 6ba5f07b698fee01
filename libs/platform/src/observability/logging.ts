import { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { NextFunction, Request, Response } from 'express';
import { Params } from 'nestjs-pino';
import pino, { DestinationStream } from 'pino';
import { Options } from 'pino-http';
import pretty from 'pino-pretty';
import type { RabbitEnv } from '../config/env';
import { CORRELATION_HEADER, correlationIdFrom, currentCorrelation, withCorrelation } from './correlation';

/** Paths probed every few seconds by orchestrators and scrapers: not worth a log line each. */
const QUIET_PATHS = new Set(['/health', '/metrics']);

/**
 * The logger of every app: pino, one JSON object per line (human-readable when stdout is a
 * terminal), each line carrying the app's name and the correlation of the work it belongs to.
 */
export function loggerParams(app: string, env: RabbitEnv): Params {
  const options: Options<IncomingMessage, ServerResponse> = {
    ...lineOptions(app, env),
    genReqId: () => currentCorrelation()?.correlationId ?? randomUUID(),
    // The correlation id comes from the mixin; a request line needs only what was asked and answered.
    serializers: {
      req: (req: { method: string; url: string }) => ({ method: req.method, url: req.url }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
    autoLogging: { ignore: (req) => QUIET_PATHS.has(req.url ?? '') },
    // A 5xx here means a service could not be reached (a bug is logged by the error filter): a warning
    // with the reason in one line, not pino-http's made-up error and its stack on every request.
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'warn' : 'info'),
    customErrorObject: (_req, _res, err, value: Record<string, unknown>) => ({ ...value, err: err.message }),
  };
  return { pinoHttp: [options, destination(env)] };
}

/**
 * The logger of an app before its Nest application exists, and after it failed to: the same lines,
 * for start-up steps (creating the database) and a start-up that gives up.
 */
export function bootLogger(app: string, env: RabbitEnv): pino.Logger {
  return pino(lineOptions(app, env), destination(env));
}

/** What every line of an app carries, and how. */
function lineOptions(app: string, env: RabbitEnv): pino.LoggerOptions {
  return {
    level: env.LOG_LEVEL,
    base: { app, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // Looked up at each line, so a line carries the correlation of the work that logs it.
    mixin: () => ({ ...currentCorrelation() }),
  };
}

/**
 * pino-pretty in a terminal (or when asked), otherwise asynchronous JSON lines: a log write never
 * waits on a slow reader. pino flushes what is buffered when the process exits.
 */
function destination(env: RabbitEnv): DestinationStream {
  const human = env.LOG_FORMAT === 'pretty' || (env.LOG_FORMAT === 'auto' && process.stdout.isTTY === true);
  if (!human) return pino.destination({ dest: 1, sync: false });
  return pretty({
    colorize: process.stdout.isTTY === true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,app,context,req,res,responseTime',
    messageFormat: '{if context}[{context}] {end}{msg}{if res.statusCode} {res.statusCode} {responseTime}ms{end}',
    singleLine: true,
  });
}

/**
 * Express middleware of the gateway: every request runs under a correlation id, the client's
 * `x-correlation-id` if it sent a sane one, and the answer names it in the same header.
 */
export function correlationMiddleware(req: Request, res: Response, next: NextFunction): void {
  const correlationId = correlationIdFrom(req.headers[CORRELATION_HEADER]);
  res.setHeader(CORRELATION_HEADER, correlationId);
  withCorrelation({ correlationId }, next);
}
