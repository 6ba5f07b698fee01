import { ErrorCode } from '@app/contracts';
import { CanActivate, ExecutionContext } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import { NextFunction, Request, Response } from 'express';
import { GatewayEnv } from '../config/gateway.env';
import { ApiError } from '../errors/api-error';

/**
 * What the gateway accepts before any route sees a request: JSON bodies only (415 otherwise), at
 * most BODY_LIMIT_BYTES (413, refused while reading), and no query parameters, since no endpoint
 * takes one (400, like an unknown body field). The app must be created with `bodyParser: false`.
 */
export function acceptJsonOnly(app: NestExpressApplication, env: GatewayEnv): void {
  app.use(requireJsonBody);
  app.useBodyParser('json', { limit: env.BODY_LIMIT_BYTES });
  app.useGlobalGuards(new NoQueryGuard());
}

function requireJsonBody(req: Request, _res: Response, next: NextFunction): void {
  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  if (hasBody && !req.is(['application/json', 'application/*+json'])) {
    next(new ApiError(ErrorCode.UNSUPPORTED_MEDIA_TYPE, 'A request body must be JSON: send content-type: application/json'));
    return;
  }
  next();
}

class NoQueryGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const names = Object.keys(context.switchToHttp().getRequest<Request>().query ?? {});
    if (names.length > 0) {
      throw new ApiError(ErrorCode.VALIDATION_FAILED, 'Invalid request', {
        details: names.map((name) => `query parameter ${JSON.stringify(name)} should not exist`),
      });
    }
    return true;
  }
}
