import { ErrorCode } from '@app/contracts';
import { NestExpressApplication } from '@nestjs/platform-express';
import { OpenAPIObject, PathItemObject } from '@nestjs/swagger';
import { NextFunction, Request, Response } from 'express';
import { ApiError } from '../errors/api-error';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/**
 * A method that the OpenAPI document does not list on a path it lists is answered 405 with an
 * `Allow` header (Express alone would answer 404, as for an unknown path). The document is built
 * from the controllers, so the allowed methods are the routes themselves; HEAD goes with GET, as
 * Express serves it. Registered before the routes.
 */
export function answerUnlistedMethods(app: NestExpressApplication, document: OpenAPIObject): void {
  const paths = Object.entries(document.paths).map(([template, item]) => ({ pattern: pathPattern(template), allowed: allowed(item) }));
  app.use((req: Request, res: Response, next: NextFunction) => {
    const path = paths.find(({ pattern }) => pattern.test(req.path));
    if (!path || path.allowed.includes(req.method)) return next();
    res.setHeader('Allow', path.allowed.join(', '));
    next(new ApiError(ErrorCode.METHOD_NOT_ALLOWED, `${req.method} is not allowed on ${req.path}; allowed: ${path.allowed.join(', ')}`));
  });
}

/** `/orders/{orderId}` -> one path segment per parameter; case-insensitive, an optional trailing slash, as Express routes. */
function pathPattern(template: string): RegExp {
  const literal = (text: string) => text.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
  const body = template
    .split(/\{[^}]+\}/)
    .map(literal)
    .join('[^/]+');
  return new RegExp(`^${body.replace(/\/$/, '')}/?$`, 'i');
}

function allowed(item: PathItemObject): string[] {
  const listed = METHODS.filter((method) => item[method]).map((method) => method.toUpperCase());
  return listed.includes('GET') && !listed.includes('HEAD') ? [...listed, 'HEAD'] : listed;
}
