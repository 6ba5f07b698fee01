import { ErrorCode, NotPlacedReason } from '@app/contracts';
import { HTTP_STATUS } from './http-status';

/** An error answer of the gateway: the status comes from HTTP_STATUS, the body is `{ code, message, ... }`. */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode | NotPlacedReason,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }

  get status(): number {
    return HTTP_STATUS[this.code];
  }
}
