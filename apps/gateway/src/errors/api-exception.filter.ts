import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { ErrorCode } from '@app/contracts';
import { RpcCallError } from '@app/platform';
import { Response } from 'express';
import { ApiError } from './api-error';
import { FRAMEWORK_ERROR_CODE, HTTP_STATUS } from './http-status';

/** The gateway's one error filter: every error answer is `{ code, message }` with its status from HTTP_STATUS. */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger(ApiExceptionFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const [status, body] = this.describe(exception);
    res.status(status).json(body);
  }

  private describe(exception: unknown): [number, Record<string, unknown>] {
    if (exception instanceof ApiError) {
      return [exception.status, { code: exception.code, message: exception.message, ...exception.extra }];
    }
    if (exception instanceof RpcCallError) {
      return [HTTP_STATUS[exception.code] ?? HttpStatus.INTERNAL_SERVER_ERROR, { ...exception.toJSON() }];
    }
    if (exception instanceof HttpException) {
      const response = exception.getResponse();
      const body = typeof response === 'object' ? (response as Record<string, unknown>) : { message: response };
      const { statusCode: _status, error: _error, code, message, ...rest } = body;
      return [exception.getStatus(), { code: code ?? httpCode(exception.getStatus()), message: message ?? exception.message, ...rest }];
    }
    if (isClientHttpError(exception)) {
      return [exception.status, { code: httpCode(exception.status), message: exception.message }];
    }
    this.logger.error('Unhandled error', (exception as Error)?.stack ?? String(exception));
    return [HttpStatus.INTERNAL_SERVER_ERROR, { code: ErrorCode.INTERNAL, message: 'Internal error; see the gateway log' }];
  }
}

function httpCode(status: HttpStatus): string {
  return FRAMEWORK_ERROR_CODE[status] ?? HttpStatus[status] ?? 'HTTP_ERROR';
}

/** An `http-errors` error of Express's body parser (413 too large, 415 charset, 400 aborted): its message is meant for the client. */
function isClientHttpError(exception: unknown): exception is Error & { status: number } {
  const { status, expose } = (exception ?? {}) as { status?: unknown; expose?: unknown };
  return exception instanceof Error && expose === true && typeof status === 'number' && status >= 400 && status < 500;
}
