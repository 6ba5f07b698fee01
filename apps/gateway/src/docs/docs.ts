import { ErrorCode } from '@app/contracts';
import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { ADMIN_KEY_HEADER, ADMIN_KEY_SCHEME } from '../auth/admin-key.guard';
import { addErrorResponses } from './api-errors.decorator';

export const DOCS_PATH = 'docs';

/** Builds the OpenAPI document and serves it: the UI at /docs, the JSON at /docs-json. */
export function setUpDocs(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Food delivery with two-phase commit')
    .setDescription(
      'An order is answered 201 "Order Placed" only once one food packet and one delivery agent are assigned to it, ' +
        '409/503 "Order Not Placed" only when it certainly ends not placed, and 202 "pending" when its outcome is not known yet ' +
        '(GET /orders/{orderId} then shows it). Every error body is `{ code, message, ... }`; the status follows from the code. ' +
        'A method a path does not list here is answered 405 `METHOD_NOT_ALLOWED` with an `Allow` header naming those it takes.',
    )
    .setVersion('1.0')
    .setLicense('MIT', 'https://opensource.org/licenses/MIT')
    .addServer('/', 'The gateway serving this document')
    .addApiKey(
      { type: 'apiKey', in: 'header', name: ADMIN_KEY_HEADER, description: 'ADMIN_API_KEY: needed to add foods, packets and agents' },
      ADMIN_KEY_SCHEME,
    )
    .build();
  const document = documentGatewayWideRules(SwaggerModule.createDocument(app, config));
  SwaggerModule.setup(DOCS_PATH, app, document, { jsonDocumentUrl: `${DOCS_PATH}-json` });
  return document;
}

/**
 * What the gateway applies to every route, written into every operation so a new route is
 * documented by being declared: public unless it says AdminOnly (explicit `security: []`); a query
 * parameter refused with 400 (no route takes one); a body that is not JSON or too large refused
 * with 415 or 413; an unexpected failure answered 500.
 */
function documentGatewayWideRules(document: OpenAPIObject): OpenAPIObject {
  for (const path of Object.values(document.paths)) {
    for (const method of ['get', 'put', 'post', 'delete', 'patch'] as const) {
      const operation = path[method];
      if (!operation) continue;
      operation.security ??= [];
      const bodyCodes = operation.requestBody ? [ErrorCode.PAYLOAD_TOO_LARGE, ErrorCode.UNSUPPORTED_MEDIA_TYPE] : [];
      addErrorResponses(operation.responses, [ErrorCode.VALIDATION_FAILED, ...bodyCodes]);
    }
  }
  return document;
}
