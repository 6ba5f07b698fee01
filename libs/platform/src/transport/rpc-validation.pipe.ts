import { ValidationError, ValidationPipe } from '@nestjs/common';
import { ErrorCode } from '@app/contracts';
import { ContractException } from './contract.exception';

/** One line per broken rule, each once (a rule over several fields, such as ExactlyOneOf, fails on each of them). */
export function describeValidationErrors(errors: ValidationError[], parent = ''): string[] {
  return [...new Set(describeEach(errors, parent))];
}

function describeEach(errors: ValidationError[], parent: string): string[] {
  return errors.flatMap((error) => {
    const path = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((text) => (parent ? `${parent}.${text}` : text));
    return [...own, ...describeEach(error.children ?? [], path)];
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
