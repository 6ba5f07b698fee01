import { ErrorCode, NotPlacedReason } from '@app/contracts';
import { HttpStatus } from '@nestjs/common';

/** The one table from contract codes (errors and not-placed reasons) to HTTP statuses. */
export const HTTP_STATUS: Record<ErrorCode | NotPlacedReason, HttpStatus> = {
  [ErrorCode.VALIDATION_FAILED]: HttpStatus.BAD_REQUEST,
  [ErrorCode.FOOD_NOT_FOUND]: HttpStatus.NOT_FOUND,
  [ErrorCode.ORDER_NOT_FOUND]: HttpStatus.NOT_FOUND,
  [ErrorCode.FOOD_EXISTS]: HttpStatus.CONFLICT,
  [ErrorCode.AGENT_EXISTS]: HttpStatus.CONFLICT,
  [ErrorCode.ORDER_NOT_DELIVERABLE]: HttpStatus.CONFLICT,
  [ErrorCode.UNKNOWN_FOOD]: HttpStatus.CONFLICT,
  [ErrorCode.OUT_OF_STOCK]: HttpStatus.CONFLICT,
  [ErrorCode.NO_AGENT]: HttpStatus.CONFLICT,
  [ErrorCode.ALL_RESERVED]: HttpStatus.CONFLICT,
  [ErrorCode.ORDER_RELEASED]: HttpStatus.CONFLICT,
  [ErrorCode.RESERVATION_LOST]: HttpStatus.CONFLICT,
  [ErrorCode.SERVICE_UNAVAILABLE]: HttpStatus.SERVICE_UNAVAILABLE,
  [ErrorCode.INTERNAL]: HttpStatus.INTERNAL_SERVER_ERROR,
  [NotPlacedReason.RESERVATION_EXPIRED]: HttpStatus.CONFLICT,
  [NotPlacedReason.COORDINATOR_RECOVERY]: HttpStatus.SERVICE_UNAVAILABLE,
  [NotPlacedReason.REQUEST_EXPIRED]: HttpStatus.SERVICE_UNAVAILABLE,
  [NotPlacedReason.REQUEST_LOST]: HttpStatus.SERVICE_UNAVAILABLE,
};
