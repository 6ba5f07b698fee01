import { BadRequestException, ParseIntPipe, ValidationPipe } from '@nestjs/common';
import { ErrorCode } from '@app/contracts';
import { describeValidationErrors } from '@app/platform';

function invalidRequest(details: string[]): BadRequestException {
  return new BadRequestException({ code: ErrorCode.VALIDATION_FAILED, message: 'Invalid request', details });
}

/** Every HTTP body and parameter is validated; a bad one gets 400 naming each offending field. */
export function httpValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    exceptionFactory: (errors) => invalidRequest(describeValidationErrors(errors)),
  });
}

/** A path parameter that must be a whole number: `@Param('foodId', intParam('foodId'))`. */
export function intParam(name: string): ParseIntPipe {
  return new ParseIntPipe({ exceptionFactory: () => invalidRequest([`${name} must be an integer`]) });
}

/** 400 for a header that breaks its rule, naming the header. */
export function invalidHeader(name: string, rule: string): BadRequestException {
  return invalidRequest([`${name} ${rule}`]);
}
