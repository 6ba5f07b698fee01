import { ErrorCode } from '@app/contracts';
import { DynamicModule, RequestMethod, Type } from '@nestjs/common';
import { GUARDS_METADATA, METHOD_METADATA, MODULE_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { DECORATORS } from '@nestjs/swagger';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdminKeyGuard } from '../apps/gateway/src/auth/admin-key.guard';
import { HTTP_STATUS } from '../apps/gateway/src/errors/http-status';
import { GatewayEnv } from '../apps/gateway/src/config/gateway.env';
import { GatewayModule } from '../apps/gateway/src/gateway.module';
import { ObservabilityModule } from '../libs/platform/src/observability/observability.module';
import { TEST_ADMIN_KEY, TestSystem } from './support/harness';
import { OpenApiDocument } from './support/openapi';

jest.setTimeout(60_000);

// The OpenAPI document needs only the gateway: no order, store or delivery is started.
const t = new TestSystem('docs', 3903);
let doc: any;
let api: OpenApiDocument;

beforeAll(async () => {
  t.system.spawn('gateway');
  doc = await t.until(
    async () => {
      const res = await fetch(`${t.url}/docs-json`).catch(() => undefined);
      return res?.ok ? res.json() : undefined;
    },
    30_000,
    'GET /docs-json',
  );
  api = new OpenApiDocument(doc);
});
afterAll(() => t.stop());

/** Every HTTP route the gateway's controllers declare, as "GET /orders/{orderId}", with its guards, from Nest's own metadata. */
function declaredRoutes(): Map<string, unknown[]> {
  const routes = new Map<string, unknown[]>();
  const seen = new Set<unknown>();
  const visit = (entry: Type | DynamicModule | undefined) => {
    if (!entry || seen.has(entry)) return;
    seen.add(entry);
    const module = 'module' in entry ? entry.module : entry;
    const dynamic: Partial<DynamicModule> = 'module' in entry ? entry : {};
    const imports = [...(Reflect.getMetadata(MODULE_METADATA.IMPORTS, module) ?? []), ...(dynamic.imports ?? [])];
    const controllers: Type[] = [...(Reflect.getMetadata(MODULE_METADATA.CONTROLLERS, module) ?? []), ...(dynamic.controllers ?? [])];
    for (const controller of controllers) {
      if (Reflect.getMetadata(DECORATORS.API_EXCLUDE_CONTROLLER, controller)?.[0]) continue;
      const prefix: string = Reflect.getMetadata(PATH_METADATA, controller) ?? '';
      for (const name of Object.getOwnPropertyNames(controller.prototype)) {
        const handler = controller.prototype[name];
        const method: RequestMethod | undefined = Reflect.getMetadata(METHOD_METADATA, handler);
        if (name === 'constructor' || method === undefined || Reflect.getMetadata(DECORATORS.API_EXCLUDE_ENDPOINT, handler)?.disable)
          continue;
        const path = ['', prefix, Reflect.getMetadata(PATH_METADATA, handler)]
          .join('/')
          .replace(/\/+/g, '/')
          .replace(/(.)\/$/, '$1')
          .replace(/:(\w+)/g, '{$1}');
        const guards = [
          ...(Reflect.getMetadata(GUARDS_METADATA, controller) ?? []),
          ...(Reflect.getMetadata(GUARDS_METADATA, handler) ?? []),
        ];
        routes.set(`${RequestMethod[method]} ${path}`, guards);
      }
    }
    for (const imported of imports) visit(imported);
  };
  // The gateway runs its module beside what createApp() adds to every app (GET /metrics).
  visit(GatewayModule);
  visit(ObservabilityModule.forApp('gateway', GatewayEnv));
  return routes;
}

const operations = () =>
  Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops as object).map(([method, op]) => ({ route: `${method.toUpperCase()} ${path}`, op })),
  );

describe('GET /docs-json, the OpenAPI document', () => {
  it('describes every route of the gateway, and nothing else', () => {
    const routes = [...declaredRoutes().keys()].sort();
    expect(routes).toEqual(
      expect.arrayContaining([
        'POST /orders',
        'GET /orders/{orderId}',
        'POST /stores',
        'GET /stores/{storeId}',
        'GET /foods',
        'GET /agents',
        'GET /health',
        'GET /',
      ]),
    );
    expect(
      operations()
        .map((o) => o.route)
        .sort(),
    ).toEqual(routes);
  });

  it('gives every route a summary and a described success reply with its schema', () => {
    for (const { route, op } of operations()) {
      expect([route, typeof op.summary]).toEqual([route, 'string']);
      const success = Object.entries(op.responses).filter(([status]) => status.startsWith('2'));
      expect([route, success.length > 0]).toEqual([route, true]);
      for (const [, reply] of success as [string, any][])
        expect([route, Object.keys(reply.content ?? {}).length > 0]).toEqual([route, true]);
    }
  });

  it('describes the error body once, with every code the gateway answers', () => {
    const error = doc.components.schemas.Error;
    expect(error.required).toEqual(expect.arrayContaining(['code', 'message']));
    const code = error.properties.code;
    const codes = code.enum ?? doc.components.schemas[(code.$ref ?? code.allOf[0].$ref).split('/').pop()].enum;
    expect([...codes].sort()).toEqual(Object.keys(HTTP_STATUS).sort());
  });

  it('documents each error reply with the Error schema and example bodies whose code maps to that status', () => {
    for (const { route, op } of operations()) {
      for (const [status, reply] of Object.entries(op.responses) as [string, any][]) {
        if (status.startsWith('2')) continue;
        const json = reply.content['application/json'];
        expect([route, status, json.schema.$ref]).toEqual([route, status, '#/components/schemas/Error']);
        const examples = Object.values(json.examples) as { value: { code: keyof typeof HTTP_STATUS; message: string } }[];
        expect(examples.length).toBeGreaterThan(0);
        for (const { value } of examples) {
          expect([route, value.code, HTTP_STATUS[value.code]]).toEqual([route, value.code, Number(status)]);
          expect(typeof value.message).toBe('string');
        }
      }
    }
  });

  it('documents placing an order, a cart or a single food: 201 placed, 202 pending, 404, 409 and 503 not placed, 400 bad input', () => {
    const place = doc.paths['/orders'].post;
    expect(Object.keys(place.responses)).toEqual(expect.arrayContaining(['201', '202', '400', '404', '409', '503']));
    expect(place.responses['201'].content['application/json'].schema.$ref).toBe('#/components/schemas/PlacedOrder');
    expect(place.responses['202'].content['application/json'].schema.$ref).toBe('#/components/schemas/PendingOrder');
    expect(Object.keys(place.responses['409'].content['application/json'].examples)).toEqual(
      expect.arrayContaining(['OUT_OF_STOCK', 'NO_AGENT', 'UNKNOWN_FOOD', 'RESERVATION_EXPIRED']),
    );
    expect(Object.keys(place.responses['503'].content['application/json'].examples)).toContain('SERVICE_UNAVAILABLE');
    expect(place.responses['404'].content['application/json'].examples).toHaveProperty('STORE_NOT_FOUND');
    expect(place.requestBody.content['application/json'].schema).toEqual({
      oneOf: [{ $ref: '#/components/schemas/PlaceCartDto' }, { $ref: '#/components/schemas/PlaceOrderDto' }],
    });
    expect(doc.components.schemas.PlaceCartDto.properties.items).toMatchObject({
      type: 'array',
      items: { $ref: '#/components/schemas/CartLineDto' },
      'x-unique-by': 'foodId',
    });
    expect(doc.paths['/orders/{orderId}'].get.responses['404'].content['application/json'].examples).toHaveProperty('ORDER_NOT_FOUND');
  });

  it('gives every property of every schema a description or an example', () => {
    for (const [name, schema] of Object.entries(doc.components.schemas) as [string, any][]) {
      for (const [property, spec] of Object.entries(schema.properties ?? {}) as [string, any][]) {
        const described =
          spec.example !== undefined || spec.description !== undefined || spec.$ref !== undefined || spec.items?.$ref !== undefined;
        expect([name, property, described]).toEqual([name, property, true]);
      }
    }
  });

  it('matches what the gateway really answers: a bad request gets a documented Error body', async () => {
    const res = await t.post('/orders', { foodId: 'one' });
    expect(res.status).toBe(400);
    expect(Object.keys(doc.components.schemas.Error.properties)).toEqual(expect.arrayContaining(Object.keys(res.body)));
    expect(res.body.code).toBe('VALIDATION_FAILED');
  });

  it('serves the interactive docs at /docs', async () => {
    const res = await fetch(`${t.url}/docs`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('swagger-ui');
    expect((await fetch(`${t.url}/docs/swagger-ui-init.js`)).status).toBe(200);
  });
});

/**
 * One request on a connection of its own. The tests before this one keep the event loop busy for
 * seconds (Ajv, fast-check): a pooled keep-alive connection could be reused just after the gateway
 * closed it as idle ("other side closed").
 */
function requestOnNewConnection(method: string, url: string): Promise<{ status: number; headers: Headers; body: { code?: string } }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        const headers = new Headers();
        for (const [name, value] of Object.entries(res.headers)) if (typeof value === 'string') headers.set(name, value);
        resolve({ status: res.statusCode!, headers, body: JSON.parse(text) as { code?: string } });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the document under standard tools and strict OpenAPI 3.0', () => {
  it('passes `redocly lint` with its recommended-strict rules: no error, no warning', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'openapi-')), 'openapi.json');
    writeFileSync(file, JSON.stringify(doc));
    const root = join(__dirname, '..');
    const lint = spawnSync(
      join(root, 'node_modules', '.bin', 'redocly'),
      ['lint', file, '--config', join(root, 'redocly.yaml'), '--format', 'json'],
      {
        encoding: 'utf8',
        timeout: 60_000,
        // Offline: no usage report, no update check.
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', DO_NOT_TRACK: '1', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
      },
    );
    const report = JSON.parse(lint.stdout) as {
      totals: unknown;
      problems: { ruleId: string; message: string; location: { pointer: string }[] }[];
    };
    expect(report.problems.map((p) => `${p.ruleId} at ${p.location[0]?.pointer}: ${p.message}`)).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
  });

  it('compiles every schema under a strict JSON Schema validator (Ajv, the OpenAPI 3.0 dialect)', () => {
    const refused: string[] = [];
    for (const pointer of api.schemaPointers()) {
      try {
        api.validator(pointer);
      } catch (err) {
        refused.push(`${pointer}: ${(err as Error).message}`);
      }
    }
    expect(refused).toEqual([]);
  });

  it('closes every request body at every level (additionalProperties: false), as the pipes refuse unknown properties', () => {
    const open: string[] = [];
    const reached = new Set<string>();
    const visit = (schema: any, where: string): void => {
      if (schema.$ref) {
        reached.add(schema.$ref.split('/').pop());
        return visit(doc.components.schemas[schema.$ref.split('/').pop()], schema.$ref);
      }
      if (schema.type === 'object' && schema.additionalProperties !== false) open.push(where);
      for (const [name, property] of Object.entries(schema.properties ?? {})) visit(property, `${where}.${name}`);
      if (schema.items) visit(schema.items, `${where}[]`);
      // A body of several shapes (POST /orders: a cart or a single food): each shape closed.
      for (const [keyword, branches] of Object.entries(schema).filter(([k]) => ['oneOf', 'anyOf', 'allOf'].includes(k)))
        (branches as any[]).forEach((branch, i) => visit(branch, `${where} ${keyword}[${i}]`));
    };
    for (const { route, op } of operations()) if (op.requestBody) visit(op.requestBody.content['application/json'].schema, route);
    expect(open).toEqual([]);
    expect([...reached]).toEqual(expect.arrayContaining(['PlaceCartDto', 'CartLineDto', 'PlaceOrderDto']));
  });

  it('describes every request with the keywords the request generator knows, so every operation is generated from', () => {
    for (const operation of api.operations) {
      const [request] = fc.sample(api.requests(operation, { 'admin-key': TEST_ADMIN_KEY }), { numRuns: 1, seed: 1 });
      expect(api.requestErrors(request)).toEqual([]);
    }
  });

  it('names the server it is served from', () => {
    expect(doc.servers).toEqual([expect.objectContaining({ url: '/' })]);
  });

  it('marks every operation public (security: []) or admin-only, as its guards say', () => {
    const routes = declaredRoutes();
    for (const { route, op } of operations()) {
      const adminOnly = routes.get(route)!.includes(AdminKeyGuard);
      expect({ route, security: op.security }).toEqual({ route, security: adminOnly ? [{ 'admin-key': [] }] : [] });
    }
  });

  it('documents the Retry-After header on every 429 answer', () => {
    const limited = operations().filter(({ op }) => op.responses['429']);
    expect(limited.length).toBeGreaterThan(0);
    for (const { route, op } of limited) {
      expect({ route, header: op.responses['429'].headers?.['Retry-After']?.schema }).toEqual({
        route,
        header: expect.objectContaining({ type: 'integer', minimum: 0 }),
      });
    }
  });

  it('answers a method a listed path does not list with 405, an Allow header naming those it does, and the Error body', async () => {
    for (const [path, item] of Object.entries(doc.paths as Record<string, object>)) {
      const listed = Object.keys(item).map((method) => method.toUpperCase());
      const allowed = listed.includes('GET') ? [...listed, 'HEAD'] : listed;
      const url = t.url + path.replace(/\{[^}]+\}/g, '1');
      for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'].filter((m) => !allowed.includes(m))) {
        const answer = await requestOnNewConnection(method, url);
        expect({ method, path, status: answer.status, code: answer.body.code }).toEqual({
          method,
          path,
          status: 405,
          code: ErrorCode.METHOD_NOT_ALLOWED,
        });
        expect(answer.headers.get('allow')!.split(', ').sort()).toEqual(allowed.sort());
        expect(api.answerErrors({ method, path }, answer)).toEqual([]);
      }
    }
  });
});
