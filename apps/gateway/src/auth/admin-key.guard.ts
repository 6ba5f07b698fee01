import { ErrorCode } from '@app/contracts';
import { CanActivate, ExecutionContext, Injectable, UseGuards, applyDecorators } from '@nestjs/common';
import { ApiSecurity } from '@nestjs/swagger';
import { Request } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import { GatewayEnv } from '../config/gateway.env';
import { ApiErrors } from '../docs/api-errors.decorator';
import { ApiError } from '../errors/api-error';

/** The header that carries the admin key, and its name in the API docs. */
export const ADMIN_KEY_HEADER = 'x-api-key';
export const ADMIN_KEY_SCHEME = 'admin-key';

/**
 * Lets a request through only with `x-api-key: <ADMIN_API_KEY>`. Both sides are hashed first, so
 * the comparison takes the same time whatever the length or the first wrong character of a guess.
 */
@Injectable()
export class AdminKeyGuard implements CanActivate {
  private readonly expected: Buffer;

  constructor(env: GatewayEnv) {
    this.expected = digest(env.ADMIN_API_KEY);
  }

  canActivate(context: ExecutionContext): boolean {
    const given = context.switchToHttp().getRequest<Request>().headers[ADMIN_KEY_HEADER];
    if (typeof given !== 'string' || !timingSafeEqual(digest(given), this.expected)) {
      throw new ApiError(ErrorCode.UNAUTHORIZED, `This endpoint needs the admin key in the ${ADMIN_KEY_HEADER} header`);
    }
    return true;
  }
}

/** Marks an endpoint that changes stock or staff: admin key required (and documented so). */
export const AdminOnly = () => applyDecorators(UseGuards(AdminKeyGuard), ApiSecurity(ADMIN_KEY_SCHEME), ApiErrors(ErrorCode.UNAUTHORIZED));

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
