import { ErrorCode } from '@app/contracts';
import fc from 'fast-check';
import { TEST_ADMIN_KEY, TestSystem } from './support/harness';
import { ApiAnswer, ApiRequest, OpenApiDocument, Operation } from './support/openapi';

/**
 * The gateway's OpenAPI document against the running system: a request is refused for its shape
 * (400) if and only if the document calls it invalid, and every answer is one the document
 * describes. Requests are generated from the document's own schemas for every operation it lists,
 * valid ones and mutations of them, so a route added later is covered by being documented.
 */

jest.setTimeout(600_000);

const VALID_RUNS = 25;
const MUTATED_RUNS = 60;

const t = new TestSystem('openapi', 3911);
const credentials = { 'admin-key': TEST_ADMIN_KEY };
const JSON_TYPE = { 'content-type': 'application/json' };
const ADMIN = { ...JSON_TYPE, 'x-api-key': TEST_ADMIN_KEY };
let api: OpenApiDocument;

beforeAll(async () => {
  await t.start();
  api = await t.conformToDocument();
});
afterAll(() => t.stop());

async function send(request: ApiRequest): Promise<ApiAnswer> {
  const controller = new AbortController();
  const res = await fetch(t.url + request.path, {
    method: request.method,
    headers: request.headers,
    body: request.body === undefined ? undefined : JSON.stringify(request.body),
    signal: controller.signal,
  });
  const type = res.headers.get('content-type') ?? '';
  // An event stream never ends: its status and headers are the answer.
  if (type.startsWith('text/event-stream')) {
    controller.abort();
    return { status: res.status, headers: res.headers, body: undefined };
  }
  const text = await res.text();
  const answer = { status: res.status, headers: res.headers, body: type.startsWith('application/json') ? JSON.parse(text) : text };
  t.expectDocumented(request, answer);
  return answer;
}

const shown = (request: ApiRequest) =>
  `${request.method} ${request.path} ${JSON.stringify(request.headers)} ${JSON.stringify(request.body)}`;

// ---------------------------------------------------------------------------------------------
// Mutations of a valid request: each may or may not leave it valid; the document decides.
// ---------------------------------------------------------------------------------------------

const word = fc.stringMatching(/^[a-z][a-z0-9]{0,7}$/);
// `__proto__` is left out: JSON.parse makes it an own property, but no object schema can name it.
const anyJson = fc.jsonValue({ maxDepth: 2 }).filter((value) => !JSON.stringify(value).includes('"__proto__"'));
const printable = (maxLength: number) =>
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength });
const pathText = fc.oneof(
  fc.constantFrom('0', '-1', '2147483647', '2147483648', '1.0', '1e3', '01', '+1', '0x10', '1 ', 'null', 'true'),
  fc.integer().map(String),
  fc.uuid().map((id) => id.toUpperCase()),
  // '.' and '..' would be resolved away by the URL, leaving another path.
  printable(40).filter((text) => text !== '' && text !== '.' && text !== '..'),
);

function mutations(operation: Operation, request: ApiRequest): fc.Arbitrary<ApiRequest> {
  const options: fc.Arbitrary<ApiRequest>[] = [];
  const body = request.body;
  if (body !== undefined) {
    options.push(anyJson.map((value) => ({ ...request, body: value })));
    if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
      options.push(fc.tuple(word, anyJson).map(([key, value]) => ({ ...request, body: { ...body, [`x_${key}`]: value } })));
      const keys = Object.keys(body);
      if (keys.length > 0) {
        options.push(fc.tuple(fc.constantFrom(...keys), anyJson).map(([key, value]) => ({ ...request, body: { ...body, [key]: value } })));
        options.push(
          fc
            .constantFrom(...keys)
            .map((key) => ({ ...request, body: Object.fromEntries(Object.entries(body).filter(([k]) => k !== key)) })),
        );
      }
      // An element of an array property once more (a cart's line, an agent's name), as it is or changed.
      const arrays = Object.entries(body).filter((entry): entry is [string, unknown[]] => Array.isArray(entry[1]) && entry[1].length > 0);
      if (arrays.length > 0) {
        options.push(
          fc.constantFrom(...arrays).chain(([key, elements]) =>
            fc
              .constantFrom(...elements)
              .chain(repeated)
              .map((again) => ({ ...request, body: { ...body, [key]: [...elements, again] } })),
          ),
        );
      }
    }
  }
  const { params } = api.find(request.method, request.path);
  for (const name of Object.keys(params)) {
    options.push(
      pathText.map((text) => ({
        ...request,
        path: operation.template.replace(/\{([^}]+)\}/g, (_, p: string) => encodeURIComponent(p === name ? text : params[p])),
      })),
    );
  }
  for (const param of (operation.spec.parameters ?? []).filter((p: { in: string }) => p.in === 'header')) {
    options.push(printable(120).map((value) => ({ ...request, headers: { ...request.headers, [param.name]: value } })));
  }
  return options.length > 0 ? fc.oneof(...options) : fc.constant(request);
}

/** An element of an array once more: as it is or, an object, with one of its properties changed (a cart's line with another quantity). */
function repeated(element: unknown): fc.Arbitrary<unknown> {
  if (typeof element !== 'object' || element === null || Array.isArray(element)) return fc.constant(element);
  const keys = Object.keys(element);
  if (keys.length === 0) return fc.constant(element);
  return fc.oneof(
    fc.constant(element),
    fc.tuple(fc.constantFrom(...keys), anyJson).map(([key, value]) => ({ ...element, [key]: value })),
  );
}

// ---------------------------------------------------------------------------------------------

describe('requests generated from the document', () => {
  it('takes every request the document calls valid: never 400, and answers as documented', async () => {
    const statuses: Record<string, Record<string, number>> = {};
    for (const operation of api.operations) {
      const seen = (statuses[`${operation.method} ${operation.template}`] = {} as Record<string, number>);
      const started = Date.now();
      await fc.assert(
        fc.asyncProperty(api.requests(operation, credentials), async (request) => {
          const answer = await send(request);
          seen[answer.status] = (seen[answer.status] ?? 0) + 1;
          if (answer.status === 400) throw new Error(`refused: ${shown(request)} -> ${JSON.stringify(answer.body)}`);
        }),
        { numRuns: VALID_RUNS },
      );
      seen.ms = Date.now() - started;
    }
    console.log(`Valid requests from the document, answers by status: ${JSON.stringify(statuses)}`);
  });

  it('refuses a mutated request with 400 VALIDATION_FAILED exactly when the document calls it invalid', async () => {
    const tally = { refused: 0, taken: 0, outside: 0 };
    for (const operation of api.operations) {
      await fc.assert(
        fc.asyncProperty(
          api.requests(operation, credentials).chain((request) => mutations(operation, request)),
          async (request) => {
            const answer = await send(request);
            // A path the mutation took off every route: expectDocumented (in send) checked the 404/405.
            if (!api.find(request.method, request.path).operation) return void tally.outside++;
            const errors = api.requestErrors(request);
            const refused = answer.status === 400 && (answer.body as { code?: string }).code === ErrorCode.VALIDATION_FAILED;
            tally[refused ? 'refused' : 'taken']++;
            expect({ request: shown(request), documentRefuses: errors, serverRefuses: refused }).toEqual({
              request: shown(request),
              documentRefuses: refused ? expect.arrayContaining([expect.any(String)]) : [],
              serverRefuses: refused,
            });
          },
        ),
        { numRuns: MUTATED_RUNS },
      );
    }
    console.log(`Mutated requests from the document: ${JSON.stringify(tally)}`);
    expect(tally.refused).toBeGreaterThan(0);
    expect(tally.taken).toBeGreaterThan(0);
  });
});

describe('what the document used to allow and the server refused (and the reverse)', () => {
  const cartLine = (foodId: number, quantity: number) => ({ foodId, quantity });
  const cases: [string, ApiRequest, RegExp][] = [
    [
      'an unknown body field',
      { method: 'POST', path: '/orders', headers: JSON_TYPE, body: { foodId: 1, extra: 1 } },
      /property extra should not exist/,
    ],
    ['a fractional foodId', { method: 'POST', path: '/orders', headers: JSON_TYPE, body: { foodId: 1.5 } }, /foodId must be an integer/],
    [
      'fractional packets',
      { method: 'POST', path: '/foods', headers: ADMIN, body: { name: 'Vada', packets: 2.5 } },
      /packets must be an integer/,
    ],
    [
      'a fractional packet count',
      { method: 'POST', path: '/foods/1/packets', headers: ADMIN, body: { count: 1.5 } },
      /count must be an integer/,
    ],
    ['a fractional agent count', { method: 'POST', path: '/agents', headers: ADMIN, body: { count: 2.5 } }, /count must be an integer/],
    [
      'an Idempotency-Key with a space',
      { method: 'POST', path: '/orders', headers: { ...JSON_TYPE, 'Idempotency-Key': 'has space' }, body: { foodId: 1 } },
      /Idempotency-Key/,
    ],
    [
      'an Idempotency-Key of 101 characters',
      { method: 'POST', path: '/orders', headers: { ...JSON_TYPE, 'Idempotency-Key': 'k'.repeat(101) }, body: { foodId: 1 } },
      /Idempotency-Key/,
    ],
    ['agents with neither count nor names', { method: 'POST', path: '/agents', headers: ADMIN, body: {} }, /exactly one of count, names/],
    [
      'agents with count and names',
      { method: 'POST', path: '/agents', headers: ADMIN, body: { count: 1, names: ['Asha'] } },
      /exactly one of count, names/,
    ],
    [
      'agents with names: null',
      { method: 'POST', path: '/agents', headers: ADMIN, body: { count: 10, names: null } },
      /names must be an array/,
    ],
    ['an empty food name', { method: 'POST', path: '/foods', headers: ADMIN, body: { name: '', packets: 1 } }, /name should not be empty/],
    ...['0', '-1', '2147483648', '1.0', '1e3', '01'].map((id): [string, ApiRequest, RegExp] => [
      `the path foodId ${id}`,
      { method: 'POST', path: `/foods/${id}/packets`, headers: ADMIN, body: { count: 1 } },
      /^foodId /,
    ]),
    [
      'a food twice in a cart (x-unique-by)',
      { method: 'POST', path: '/orders', headers: JSON_TYPE, body: { storeId: 1, items: [cartLine(1, 1), cartLine(1, 2)] } },
      /each foodId may appear only once in items/,
    ],
    [
      'a cart line with an unknown field',
      { method: 'POST', path: '/orders', headers: JSON_TYPE, body: { storeId: 1, items: [{ ...cartLine(1, 1), note: 'x' }] } },
      /property note should not exist/,
    ],
    [
      'a cart line of no packet',
      { method: 'POST', path: '/orders', headers: JSON_TYPE, body: { storeId: 1, items: [cartLine(1, 0)] } },
      /quantity must not be less than 1/,
    ],
    [
      'both forms of an order at once',
      { method: 'POST', path: '/orders', headers: JSON_TYPE, body: { foodId: 1, storeId: 1, items: [cartLine(1, 1)] } },
      /property foodId should not exist/,
    ],
    ...['0', '1.0', '2147483648'].map((id): [string, ApiRequest, RegExp] => [
      `the path storeId ${id}`,
      { method: 'POST', path: `/stores/${id}/agents`, headers: ADMIN, body: { count: 1 } },
      /^storeId /,
    ]),
  ];

  it.each(cases)('%s: the document and the server both refuse it, naming the field', async (_, request, detail) => {
    const documentRefuses = api.requestErrors(request).length > 0;
    const answer = await send(request);
    expect({ documentRefuses, status: answer.status, body: answer.body }).toEqual({
      documentRefuses: true,
      status: 400,
      body: {
        code: ErrorCode.VALIDATION_FAILED,
        message: 'Invalid request',
        details: expect.arrayContaining([expect.stringMatching(detail)]),
      },
    });
  });
});
