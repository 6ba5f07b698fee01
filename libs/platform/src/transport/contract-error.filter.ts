import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { RmqContext, RpcException } from '@nestjs/microservices';
import { Response } from 'express';
import { Observable, throwError } from 'rxjs';
import { messageCorrelation } from './message-log.interceptor';
import { ContractError, ErrorCode, isContractError } from '@app/contracts';

const INTERNAL_REPLY: Readonly<ContractError> = Object.freeze({ code: ErrorCode.INTERNAL, message: 'Internal error; see the service log' });

/** The one error filter of every service: whatever a handler throws leaves as `{ code, message }`. */
@Catch()
export class ContractErrorFilter implements ExceptionFilter<unknown> {
  private readonly logger = new Logger('ContractErrorFilter');

  catch(exception: unknown, host: ArgumentsHost): Observable<never> | void {
    if (host.getType() === 'http') return this.answerHttp(exception, host);
    const error = exception instanceof RpcException ? exception.getError() : undefined;
    if (isContractError(error)) return throwError(() => error);
    // The filter runs outside the handler's correlation: the line names the message's ids itself.
    const rpc = host.switchToRpc();
    const rmq = rpc.getContext<RmqContext | undefined>();
    const pattern = rmq?.getPattern?.() ?? 'handler';
    const ids = rmq?.getMessage ? messageCorrelation(rmq, rpc.getData()) : {};
    this.logger.error(
      { ...ids, pattern, err: exception },
      `Unhandled error in ${pattern}: ${(exception as Error)?.message ?? String(exception)}`,
    );
    return throwError(() => INTERNAL_REPLY);
  }

  /** The service's own HTTP port (/metrics, /health): an HTTP error is an answer, not a bug. */
  private answerHttp(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    if (exception instanceof HttpException) {
      const body = exception.getResponse();
      if (!response.headersSent) {
        response.status(exception.getStatus()).json(typeof body === 'string' ? { statusCode: exception.getStatus(), message: body } : body);
      }
      return;
    }
    this.logger.error('Unhandled error in an HTTP handler', (exception as Error)?.stack ?? String(exception));
    if (!response.headersSent) {
      response.status(HttpStatus.INTERNAL_SERVER_ERROR).json(INTERNAL_REPLY);
    }
  }
}
