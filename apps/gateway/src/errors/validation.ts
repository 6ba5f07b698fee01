import { ArgumentMetadata, BadRequestException, ValidationPipe } from '@nestjs/common';
import { ErrorCode } from '@app/contracts';
import { describeValidationErrors } from '@app/platform';
import { getMetadataStorage } from 'class-validator';

function invalidRequest(details: string[]): BadRequestException {
  return new BadRequestException({ code: ErrorCode.VALIDATION_FAILED, message: 'Invalid request', details });
}

/**
 * Every HTTP body and parameter is validated by its DTO; a bad one gets 400 naming each offending
 * field. Path parameters arrive as text: a field the DTO validates as an integer is read from plain
 * decimal digits only ("1.0", "1e3", "+1", "01" or " 1" stay text and fail as not an integer).
 */
class HttpValidationPipe extends ValidationPipe {
  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'param' && metadata.metatype && typeof value === 'object' && value !== null) {
      value = readIntegers(value as Record<string, unknown>, integerFields(metadata.metatype));
    }
    return super.transform(value, metadata);
  }
}

export function httpValidationPipe(): ValidationPipe {
  return new HttpValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    exceptionFactory: (errors) => invalidRequest(describeValidationErrors(errors)),
  });
}

const DECIMAL = /^-?(0|[1-9][0-9]*)$/;

function readIntegers(params: Record<string, unknown>, fields: Set<string>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(params).map(([key, text]) => [
      key,
      fields.has(key) && typeof text === 'string' && DECIMAL.test(text) ? Number(text) : text,
    ]),
  );
}

/** The properties a DTO validates with IsInt: read from class-validator's own metadata, the one declaration. */
function integerFields(type: ArgumentMetadata['metatype']): Set<string> {
  const rules = getMetadataStorage().getTargetValidationMetadatas(type!, '', true, false);
  return new Set(rules.filter((rule) => rule.name === 'isInt').map((rule) => rule.propertyName));
}

/** 400 for a header that breaks its rule, naming the header. */
export function invalidHeader(name: string, rule: string): BadRequestException {
  return invalidRequest([`${name} ${rule}`]);
}
