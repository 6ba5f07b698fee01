import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { ADMIN_KEY_HEADER, ADMIN_KEY_SCHEME } from '../auth/admin-key.guard';

export const DOCS_PATH = 'docs';

/** Serves the OpenAPI document: the UI at /docs, the JSON at /docs-json. */
export function setUpDocs(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Food delivery with two-phase commit')
    .setDescription(
      'An order is answered 201 "Order Placed" only once one food packet and one delivery agent are assigned to it, ' +
        '409/503 "Order Not Placed" only when it certainly ends not placed, and 202 "pending" when its outcome is not known yet ' +
        '(GET /orders/{orderId} then shows it). Every error body is `{ code, message, ... }`; the status follows from the code.',
    )
    .setVersion('1.0')
    .addApiKey(
      { type: 'apiKey', in: 'header', name: ADMIN_KEY_HEADER, description: 'ADMIN_API_KEY: needed to add foods, packets and agents' },
      ADMIN_KEY_SCHEME,
    )
    .build();
  SwaggerModule.setup(DOCS_PATH, app, () => SwaggerModule.createDocument(app, config), { jsonDocumentUrl: `${DOCS_PATH}-json` });
}
