import { ErrorCode, NotPlacedReason } from '@app/contracts';
import { HttpStatus } from '@nestjs/common';

/** The one table from contract codes (errors and not-placed reasons) to HTTP statuses. */
export const HTTP_STATUS: Record<ErrorCode | NotPlacedReason, HttpStatus> = {
  [ErrorCode.VALIDATION_FAILED]: HttpStatus.BAD_REQUEST,
  [ErrorCode.FOOD_NOT_FOUND]: HttpStatus.NOT_FOUND,
  // Also the not-placed reason of an order to an unknown store (the same code).
  [ErrorCode.STORE_NOT_FOUND]: HttpStatus.NOT_FOUND,
  [ErrorCode.STORE_EXISTS]: HttpStatus.CONFLICT,
  [ErrorCode.STORE_RANGE_FULL]: HttpStatus.CONFLICT,
  [ErrorCode.PARTITION_NOT_FOUND]: HttpStatus.NOT_FOUND,
  [ErrorCode.ORDER_NOT_FOUND]: HttpStatus.NOT_FOUND,
  // Not an error to a client: GET /orders/:id answers it with the 202 PENDING body of POST /orders.
  [ErrorCode.ORDER_PENDING]: HttpStatus.ACCEPTED,
  [ErrorCode.FOOD_EXISTS]: HttpStatus.CONFLICT,
  [ErrorCode.AGENT_EXISTS]: HttpStatus.CONFLICT,
  [ErrorCode.ORDER_NOT_DELIVERABLE]: HttpStatus.CONFLICT,
  [ErrorCode.UNKNOWN_FOOD]: HttpStatus.CONFLICT,
  [ErrorCode.OUT_OF_STOCK]: HttpStatus.CONFLICT,
  [ErrorCode.NO_AGENT]: HttpStatus.CONFLICT,
  [ErrorCode.ALL_RESERVED]: HttpStatus.CONFLICT,
  [ErrorCode.ORDER_RELEASED]: HttpStatus.CONFLICT,
  [ErrorCode.ORDER_TOO_OLD]: HttpStatus.CONFLICT,
  [ErrorCode.RESERVATION_LOST]: HttpStatus.CONFLICT,
  [ErrorCode.SERVICE_UNAVAILABLE]: HttpStatus.SERVICE_UNAVAILABLE,
  [ErrorCode.INTERNAL]: HttpStatus.INTERNAL_SERVER_ERROR,
  // The gateway and a service disagree on the contract (a deployment mismatch), not a client error.
  [ErrorCode.UNKNOWN_PATTERN]: HttpStatus.INTERNAL_SERVER_ERROR,
  [ErrorCode.IDEMPOTENCY_KEY_REUSED]: HttpStatus.UNPROCESSABLE_ENTITY,
  [ErrorCode.UNAUTHORIZED]: HttpStatus.UNAUTHORIZED,
  [ErrorCode.ROUTE_NOT_FOUND]: HttpStatus.NOT_FOUND,
  [ErrorCode.METHOD_NOT_ALLOWED]: HttpStatus.METHOD_NOT_ALLOWED,
  [ErrorCode.PAYLOAD_TOO_LARGE]: HttpStatus.PAYLOAD_TOO_LARGE,
  [ErrorCode.UNSUPPORTED_MEDIA_TYPE]: HttpStatus.UNSUPPORTED_MEDIA_TYPE,
  [ErrorCode.TOO_MANY_REQUESTS]: HttpStatus.TOO_MANY_REQUESTS,
  [NotPlacedReason.RESERVATION_EXPIRED]: HttpStatus.CONFLICT,
  [NotPlacedReason.COORDINATOR_RECOVERY]: HttpStatus.SERVICE_UNAVAILABLE,
  [NotPlacedReason.REQUEST_EXPIRED]: HttpStatus.SERVICE_UNAVAILABLE,
  [NotPlacedReason.REQUEST_LOST]: HttpStatus.SERVICE_UNAVAILABLE,
};

/**
 * The code of an error raised by the framework or Express itself (an unknown route, a body-parser
 * refusal), which carries only a status. Statuses not listed keep their HTTP name as code.
 */
export const FRAMEWORK_ERROR_CODE: Partial<Record<HttpStatus, ErrorCode>> = {
  [HttpStatus.BAD_REQUEST]: ErrorCode.VALIDATION_FAILED,
  [HttpStatus.NOT_FOUND]: ErrorCode.ROUTE_NOT_FOUND,
  [HttpStatus.PAYLOAD_TOO_LARGE]: ErrorCode.PAYLOAD_TOO_LARGE,
  [HttpStatus.UNSUPPORTED_MEDIA_TYPE]: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
};
