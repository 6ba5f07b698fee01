import { BadRequestException, ValidationPipe } from '@nestjs/common';
import { ErrorCode, describeValidationErrors } from '@app/contracts';

/** Every HTTP body and parameter is validated; a bad one gets 400 naming each offending field. */
export function httpValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    exceptionFactory: (errors) =>
      new BadRequestException({
        code: ErrorCode.VALIDATION_FAILED,
        message: 'Invalid request',
        details: describeValidationErrors(errors),
      }),
  });
}
