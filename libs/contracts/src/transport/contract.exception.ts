import { RpcException } from '@nestjs/microservices';
import { ContractError, ErrorCode } from '../errors';

/** Thrown by message handlers; its error object crosses RabbitMQ as `{ code, message }`. */
export class ContractException extends RpcException {
  constructor(code: ErrorCode, message: string, details?: string[]) {
    super(details ? { code, message, details } : { code, message });
  }

  get contractError(): ContractError {
    return this.getError() as ContractError;
  }
}
