import { IDEMPOTENCY_KEY } from '@app/contracts';
import { ExecutionContext, createParamDecorator } from '@nestjs/common';
import { Request } from 'express';
import { invalidHeader } from '../errors/validation';

/** The optional Idempotency-Key header of POST /orders; a malformed (or repeated) one gets 400. */
export const IdempotencyKey = createParamDecorator((_: unknown, context: ExecutionContext): string | undefined => {
  const key = context.switchToHttp().getRequest<Request>().headers['idempotency-key'];
  if (key === undefined) return undefined;
  if (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key))
    throw invalidHeader('Idempotency-Key', 'must be 1 to 100 letters, digits or _ . : -');
  return key;
});
