import { IDEMPOTENCY_KEY, IDEMPOTENCY_KEY_MAX_LENGTH } from '@app/contracts';
import { ExecutionContext, createParamDecorator } from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import { Request } from 'express';
import { invalidHeader } from '../errors/validation';

const NAME = 'Idempotency-Key';

/**
 * The optional Idempotency-Key header: a malformed (or repeated) one gets 400. The decorator also
 * documents the header on its route, with the very rule it checks.
 */
export const IdempotencyKey = createParamDecorator(
  (_: unknown, context: ExecutionContext): string | undefined => {
    const key = context.switchToHttp().getRequest<Request>().headers[NAME.toLowerCase()];
    if (key === undefined) return undefined;
    if (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key)) throw invalidHeader(NAME, 'must be 1 to 100 letters, digits or _ . : -');
    return key;
  },
  [
    (target, key) =>
      ApiHeader({
        name: NAME,
        required: false,
        description: 'Retries with the same key return the same order and outcome, never a second order (1-100 of A-Z a-z 0-9 _ . : -)',
        schema: {
          type: 'string',
          minLength: 1,
          maxLength: IDEMPOTENCY_KEY_MAX_LENGTH,
          pattern: IDEMPOTENCY_KEY.source,
          example: 'checkout-7f3a',
        },
      })(target, key!, Object.getOwnPropertyDescriptor(target, key!)!),
  ],
);
