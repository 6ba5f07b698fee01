import { ArgumentMetadata, BadRequestException, Body, PipeTransform, Type, ValidationPipe } from '@nestjs/common';
import { ApiBody, ApiExtraModels, getSchemaPath } from '@nestjs/swagger';
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

/**
 * A request body of one of several shapes: a `oneOf` of the DTO classes in the document, and, for
 * the validation, the class the body's own shape calls for (`pick`), validated as any body is, so
 * a refusal names the fields of the shape the client meant.
 */
export function OneOfBody(types: Type[], pick: (body: Record<string, unknown>) => Type): ParameterDecorator {
  const pipe = httpValidationPipe();
  const chosen: PipeTransform = {
    transform: (body: unknown, metadata: ArgumentMetadata) => {
      const shape = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
      return pipe.transform(body, { ...metadata, metatype: pick(shape) });
    },
  };
  return (target, key, index) => {
    const descriptor = Object.getOwnPropertyDescriptor(target, key!)!;
    ApiExtraModels(...types)(target, key!, descriptor);
    ApiBody({ schema: { oneOf: types.map((type) => ({ $ref: getSchemaPath(type) })) } })(target, key!, descriptor);
    Body(chosen)(target, key, index);
  };
}

/** 400 for a header that breaks its rule, naming the header. */
export function invalidHeader(name: string, rule: string): BadRequestException {
  return invalidRequest([`${name} ${rule}`]);
}
