import { RpcException } from '@nestjs/microservices';
import { ErrorCode, Shortage } from '@app/contracts';

/** Thrown by message handlers; its error object crosses RabbitMQ as `{ code, message }`. */
export class ContractException extends RpcException {
  constructor(code: ErrorCode, message: string, details?: string[] | Shortage[]) {
    super(details ? { code, message, details } : { code, message });
  }
}
