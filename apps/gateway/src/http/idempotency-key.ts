import { IDEMPOTENCY_KEY, IDEMPOTENCY_KEY_MAX_LENGTH } from '@app/contracts';
import { ExecutionContext, createParamDecorator } from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import { Request } from 'express';
import { invalidHeader } from '../errors/validation';

const NAME = 'Idempotency-Key';

const readKey = createParamDecorator((_: unknown, context: ExecutionContext): string | undefined => {
  const key = context.switchToHttp().getRequest<Request>().headers[NAME.toLowerCase()];
  if (key === undefined) return undefined;
  if (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key)) throw invalidHeader(NAME, 'must be 1 to 100 letters, digits or _ . : -');
  return key;
});

/**
 * The optional Idempotency-Key header of POST /orders and of the stock and staff additions: a
 * malformed (or repeated) one gets 400. The decorator also documents the header on its route, with
 * the very rule it checks and what a retry with the key gets there (`retries`).
 */
export function IdempotencyKey(retries: string): ParameterDecorator {
  return (target, key, index) => {
    ApiHeader({
      name: NAME,
      required: false,
      description: `${retries} (1-100 of A-Z a-z 0-9 _ . : -)`,
      schema: {
        type: 'string',
        minLength: 1,
        maxLength: IDEMPOTENCY_KEY_MAX_LENGTH,
        pattern: IDEMPOTENCY_KEY.source,
        example: 'checkout-7f3a',
      },
    })(target, key!, Object.getOwnPropertyDescriptor(target, key!)!);
    readKey()(target, key, index);
  };
}

/** What a retry of a stock or staff addition with its key gets. */
export const ADDITION_RETRIES =
  'A retry with the same key adds nothing and answers what the first request answered (a retry while the first still runs ' +
  'waits for it); the same key with another body is 422';
