import { ArgumentsHost, Catch, Logger, RpcExceptionFilter } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { Observable, throwError } from 'rxjs';
import { ContractError, ErrorCode, isContractError } from '../errors';

/** The one error filter of every service: whatever a handler throws leaves as `{ code, message }`. */
@Catch()
export class ContractErrorFilter implements RpcExceptionFilter<unknown> {
  private readonly logger = new Logger('ContractErrorFilter');

  catch(exception: unknown, host: ArgumentsHost): Observable<never> {
    const error = exception instanceof RpcException ? exception.getError() : undefined;
    if (isContractError(error)) return throwError(() => error);
    this.logger.error(
      `Unhandled error in ${host.switchToRpc().getContext()?.getPattern?.() ?? 'handler'}`,
      (exception as Error)?.stack ?? String(exception),
    );
    const reply: ContractError = { code: ErrorCode.INTERNAL, message: 'Internal error; see the service log' };
    return throwError(() => reply);
  }
}
