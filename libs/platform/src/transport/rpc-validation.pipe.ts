import { ValidationError, ValidationPipe } from '@nestjs/common';
import { ErrorCode } from '@app/contracts';
import { ContractException } from './contract.exception';

export function describeValidationErrors(errors: ValidationError[], parent = ''): string[] {
  return errors.flatMap((error) => {
    const path = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((text) => (parent ? `${parent}.${text}` : text));
    return [...own, ...describeValidationErrors(error.children ?? [], path)];
  });
}

/** Validates every message payload against its contract DTO; a bad payload gets VALIDATION_FAILED, not a crash. */
export function rpcValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    exceptionFactory: (errors) =>
      new ContractException(ErrorCode.VALIDATION_FAILED, 'Invalid message payload', describeValidationErrors(errors)),
  });
}
