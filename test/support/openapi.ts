import Ajv, { SchemaValidateFunction, ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import fc from 'fast-check';

/*
 * The gateway's OpenAPI document as a test oracle, read with a standard JSON Schema validator (Ajv,
 * strict, with ajv-formats) in the OpenAPI 3.0 dialect: `nullable` (Ajv's own keyword, which
 * refuses it without a `type`), `example` as an annotation, and the document's one extension,
 * `x-unique-by` (see UNIQUE_BY). It says whether a request is one the document calls valid, whether
 * an answer is one it documents, and generates requests from its own request schemas (fast-check
 * arbitraries derived from each schema).
 */

const DOC = 'openapi.json';
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;
/** OpenAPI's simple style for a path or header value: an integer as plain decimal digits, a number as a JSON number. */
const TEXT_OF: Record<string, RegExp> = { integer: /^-?(0|[1-9][0-9]*)$/, number: /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/ };
const fromText = (schema: Schema, text: string): unknown => (TEXT_OF[schema.type]?.test(text) ? Number(text) : text);

type Schema = Record<string, any>;

/**
 * An array of objects no two of which have the same value of the named property (a cart's lines,
 * each food once): JSON Schema cannot say it, so the document says it as this extension
 * (ObjectArrayField in libs/contracts), which the validator and the generator here both know.
 */
const UNIQUE_BY = 'x-unique-by';

/** The validator's UNIQUE_BY: no two objects of the array with equal values of the property (items not objects, or without it, are left to the other keywords). */
const uniqueBy: SchemaValidateFunction = function (property: string, items: unknown[]): boolean {
  const seen = new Map<string, number>();
  for (const [index, item] of items.entries()) {
    if (typeof item !== 'object' || item === null || !(property in item)) continue;
    const value = JSON.stringify((item as Record<string, unknown>)[property]);
    const first = seen.get(value);
    if (first !== undefined) {
      uniqueBy.errors = [
        {
          keyword: UNIQUE_BY,
          params: { property, first, index },
          message: `must not repeat ${property} ${value} (items ${first} and ${index})`,
        },
      ];
      return false;
    }
    seen.set(value, index);
  }
  return true;
};

export interface ApiRequest {
  method: string;
  /** As sent: path parameters encoded. */
  path: string;
  headers: Record<string, string>;
  body?: unknown;
}

export interface ApiAnswer {
  status: number;
  headers: Headers;
  body: unknown;
}

export interface Operation {
  method: string;
  template: string;
  spec: Schema;
  /** JSON pointer of the operation in the document. */
  pointer: string;
}

export class OpenApiDocument {
  // Strict, but `required` may name a property declared beside it (oneOf of required lists).
  private readonly ajv = new Ajv({ strict: true, strictRequired: false, allErrors: true });
  private readonly compiled = new Map<string, ValidateFunction>();
  readonly operations: Operation[];

  constructor(readonly doc: Schema) {
    addFormats(this.ajv);
    this.ajv.addVocabulary(['example']);
    this.ajv.addKeyword({ keyword: UNIQUE_BY, type: 'array', schemaType: 'string', validate: uniqueBy, errors: true });
    // The document itself is the root every `#/components/...` reference resolves against; its
    // top-level fields are no schema keywords (Ajv compiles the root to reach a fragment).
    this.ajv.addVocabulary(Object.keys(doc).filter((field) => !this.ajv.getKeyword(field)));
    this.ajv.addSchema(doc, DOC);
    this.operations = Object.entries(doc.paths as Record<string, Schema>).flatMap(([template, item]) =>
      HTTP_METHODS.filter((method) => item[method]).map((method) => ({
        method: method.toUpperCase(),
        template,
        spec: item[method],
        pointer: `/paths/${escape(template)}/${method}`,
      })),
    );
  }

  static async fetch(baseUrl: string): Promise<OpenApiDocument> {
    const res = await fetch(`${baseUrl}/docs-json`);
    if (!res.ok) throw new Error(`GET /docs-json answered ${res.status}`);
    return new OpenApiDocument((await res.json()) as Schema);
  }

  /** Compiles the schema at a JSON pointer of the document: throws where strict validators refuse the schema itself. */
  validator(pointer: string): ValidateFunction {
    let validate = this.compiled.get(pointer);
    if (!validate) {
      validate = this.ajv.compile({ $ref: `${DOC}#${pointer}` });
      this.compiled.set(pointer, validate);
    }
    return validate;
  }

  /** Every schema the document holds: components, parameters, request bodies and answers. */
  schemaPointers(): string[] {
    const pointers = Object.keys(this.doc.components.schemas).map((name) => `/components/schemas/${escape(name)}`);
    for (const { spec, pointer } of this.operations) {
      (spec.parameters ?? []).forEach((_: unknown, i: number) => pointers.push(`${pointer}/parameters/${i}/schema`));
      for (const type of Object.keys(spec.requestBody?.content ?? {}))
        pointers.push(`${pointer}/requestBody/content/${escape(type)}/schema`);
      for (const [status, response] of Object.entries(spec.responses as Record<string, Schema>)) {
        for (const type of Object.keys(response.content ?? {}))
          pointers.push(`${pointer}/responses/${status}/content/${escape(type)}/schema`);
        for (const name of Object.keys(response.headers ?? {}))
          pointers.push(`${pointer}/responses/${status}/headers/${escape(name)}/schema`);
      }
    }
    return pointers;
  }

  /** The documented operation a request goes to, with its path parameters (decoded), if any. */
  find(method: string, path: string): { operation?: Operation; params: Record<string, string>; pathKnown: boolean } {
    const pathname = path.split('?')[0];
    let pathKnown = false;
    for (const operation of this.operations) {
      const params = matchTemplate(operation.template, pathname);
      if (!params) continue;
      pathKnown = true;
      if (operation.method === method.toUpperCase()) return { operation, params, pathKnown };
    }
    return { params: {}, pathKnown };
  }

  /** Why the document refuses a request (empty: the document calls it valid). Security is not checked here. */
  requestErrors(request: ApiRequest): string[] {
    const { operation, params } = this.find(request.method, request.path);
    if (!operation) return [`${request.method} ${request.path} is no documented operation`];
    if (request.path.includes('?')) return ['the document lists no query parameter'];
    const errors: string[] = [];
    (operation.spec.parameters ?? []).forEach((param: Schema, i: number) => {
      const text = param.in === 'path' ? params[param.name] : param.in === 'header' ? header(request.headers, param.name) : undefined;
      if (text === undefined) {
        if (param.required) errors.push(`${param.in} parameter ${param.name} is required`);
        return;
      }
      const value = fromText(this.resolve(param.schema), text);
      errors.push(...this.check(`${operation.pointer}/parameters/${i}/schema`, value, `${param.in} parameter ${param.name}`));
    });
    const body = operation.spec.requestBody;
    if (body && request.body === undefined && body.required) errors.push('the request body is required');
    if (!body && request.body !== undefined) errors.push('the operation takes no body');
    if (body && request.body !== undefined)
      errors.push(...this.check(`${operation.pointer}/requestBody/content/application~1json/schema`, request.body, 'body'));
    return errors;
  }

  /**
   * Why the document does not describe an answer (empty: it does). A request outside the document
   * must be answered as its description says: 405 with Allow on a listed path, else 404; with the
   * Error body either way.
   */
  answerErrors(request: Pick<ApiRequest, 'method' | 'path'>, answer: ApiAnswer): string[] {
    const { operation, pathKnown } = this.find(request.method, request.path);
    const where = `${request.method} ${request.path} answered ${answer.status}`;
    if (!operation) {
      const expected = pathKnown ? 405 : 404;
      const errors = answer.status === expected ? [] : [`${where}, not ${expected}`];
      if (expected === 405 && !answer.headers.get('allow')) errors.push(`${where} without an Allow header`);
      return [...errors, ...this.check('/components/schemas/Error', answer.body, where)];
    }
    const status = String(answer.status);
    const responses = operation.spec.responses as Record<string, Schema>;
    const key = [status, `${status[0]}XX`, 'default'].find((candidate) => responses[candidate]);
    if (!key) return [`${where}, which ${operation.method} ${operation.template} does not document`];
    const response = responses[key];
    const errors: string[] = [];
    for (const [name, spec] of Object.entries((response.headers ?? {}) as Record<string, Schema>)) {
      const text = answer.headers.get(name);
      if (text === null) {
        if (spec.required) errors.push(`${where} without its ${name} header`);
        continue;
      }
      const value = fromText(this.resolve(spec.schema), text);
      errors.push(...this.check(`${operation.pointer}/responses/${key}/headers/${escape(name)}/schema`, value, `${where}: header ${name}`));
    }
    const type = (answer.headers.get('content-type') ?? '').split(';')[0].trim();
    const content = response.content ?? {};
    if (!(type in content))
      return [...errors, `${where} with content-type ${JSON.stringify(type)}, documented: ${Object.keys(content).join(', ')}`];
    if (type === 'application/json')
      errors.push(...this.check(`${operation.pointer}/responses/${key}/content/application~1json/schema`, answer.body, where));
    return errors;
  }

  /**
   * Requests the document calls valid for one operation, generated from its own schemas: path
   * parameters, header parameters (an optional one sometimes left out), and the JSON body.
   * `credentials` gives the value of each security scheme the operation names.
   */
  requests(operation: Operation, credentials: Record<string, string> = {}): fc.Arbitrary<ApiRequest> {
    const parameters: Schema[] = operation.spec.parameters ?? [];
    const param = (p: Schema) => (p.required ? this.arbitrary(p.schema) : fc.option(this.arbitrary(p.schema), { nil: undefined }));
    const inPath = parameters.filter((p) => p.in === 'path');
    const inHeader = parameters.filter((p) => p.in === 'header');
    const body = operation.spec.requestBody?.content?.['application/json']?.schema;
    const security: Record<string, string> = {};
    for (const requirement of operation.spec.security ?? []) {
      for (const scheme of Object.keys(requirement)) {
        const definition = this.doc.components.securitySchemes[scheme];
        if (definition.in !== 'header' || !(scheme in credentials))
          throw new Error(`no credentials for the ${scheme} of ${operation.template}`);
        security[definition.name] = credentials[scheme];
      }
    }
    return fc
      .record({
        path: fc.tuple(...inPath.map(param)),
        header: fc.tuple(...inHeader.map(param)),
        body: body ? this.arbitrary(body) : fc.constant(undefined),
      })
      .map(({ path, header: headerValues, body: value }): ApiRequest => {
        let url = operation.template;
        inPath.forEach((p, i) => (url = url.replace(`{${p.name}}`, encodeURIComponent(String(path[i])))));
        const headers: Record<string, string> = { ...security };
        inHeader.forEach((p, i) => headerValues[i] !== undefined && (headers[p.name] = String(headerValues[i])));
        if (value !== undefined) headers['content-type'] = 'application/json';
        return { method: operation.method, path: url, headers, body: value };
      })
      .filter((request) => this.requestErrors(request).length === 0);
  }

  /** A fast-check arbitrary of the values a schema admits, for the keywords this document uses; any other keyword fails loudly. */
  arbitrary(input: Schema): fc.Arbitrary<unknown> {
    const schema = this.resolve(input);
    const known = new Set([...ANNOTATIONS, ...Object.keys(GENERATORS), 'type', 'nullable', 'oneOf', 'enum']);
    const unknown = Object.keys(schema).filter((keyword) => !known.has(keyword) && !KEYWORDS_OF[schema.type]?.includes(keyword));
    if (unknown.length > 0) throw new Error(`cannot generate values of ${JSON.stringify(schema)}: ${unknown.join(', ')}`);
    let value: fc.Arbitrary<unknown>;
    if (schema.enum) value = fc.constantFrom(...schema.enum);
    else if (schema.oneOf) {
      const { oneOf, ...rest } = schema;
      // Each branch with the siblings of oneOf; requests() keeps only what the validator calls valid.
      value = fc.oneof(...oneOf.map((branch: Schema) => this.arbitrary(mergeBranch(rest, this.resolve(branch)))));
    } else if (GENERATORS[schema.type]) value = GENERATORS[schema.type](schema, this);
    else throw new Error(`cannot generate values of ${JSON.stringify(schema)}`);
    return schema.nullable ? fc.option(value, { nil: null }) : value;
  }

  private resolve(schema: Schema): Schema {
    if (!schema.$ref) return schema;
    const pointer = (schema.$ref as string).replace(/^#/, '');
    return this.resolve(
      pointer
        .split('/')
        .slice(1)
        .reduce((node: Schema, part) => node[unescape(part)], this.doc),
    );
  }

  private check(pointer: string, value: unknown, what: string): string[] {
    const validate = this.validator(pointer);
    if (validate(value)) return [];
    return (validate.errors ?? []).map((e) => `${what}${e.instancePath} ${e.message} (${JSON.stringify(value)?.slice(0, 200)})`);
  }
}

const ANNOTATIONS = ['description', 'example', 'title', 'format', 'required'];
const KEYWORDS_OF: Record<string, string[]> = {
  integer: ['minimum', 'maximum'],
  number: ['minimum', 'maximum'],
  string: ['minLength', 'maxLength', 'pattern'],
  array: ['items', 'minItems', 'maxItems', 'uniqueItems', UNIQUE_BY],
  object: ['properties', 'additionalProperties'],
};

const GENERATORS: Record<string, (schema: Schema, doc: OpenApiDocument) => fc.Arbitrary<unknown>> = {
  integer: (s) => {
    const [min, max]: number[] = [s.minimum ?? -(2 ** 31), s.maximum ?? 2 ** 31 - 1];
    // Mostly small values, sometimes a bound or anything between: a valid count can cost a row per
    // unit (packets, agents), so the range is sampled, not swept.
    return fc.oneof(
      { arbitrary: fc.integer({ min, max: Math.min(max, min + 100) }), weight: 8 },
      { arbitrary: fc.constantFrom(min, max), weight: 1 },
      { arbitrary: fc.integer({ min, max }), weight: 1 },
    );
  },
  number: (s) => fc.double({ min: s.minimum ?? -1e9, max: s.maximum ?? 1e9, noNaN: true, noDefaultInfinity: true }),
  boolean: () => fc.boolean(),
  string: (s) => {
    const length = (text: string) => [...text].length;
    const fits = (text: string) => length(text) >= (s.minLength ?? 0) && length(text) <= (s.maxLength ?? Infinity);
    if (s.pattern) return fc.stringMatching(new RegExp(s.pattern)).filter(fits);
    if (s.format === 'uuid') return fc.uuid();
    // Any code point: JSON Schema counts code points, so the server must too.
    return fc.string({ unit: 'binary', minLength: s.minLength ?? 0, maxLength: s.maxLength }).filter(fits);
  },
  array: (s, doc) => {
    const options = { minLength: s.minItems ?? 0, maxLength: s.maxItems };
    const items = doc.arbitrary(s.items);
    const property: string | undefined = s[UNIQUE_BY];
    // Unique by a property implies unique items (objects that differ there differ).
    if (property) return fc.uniqueArray(items, { ...options, selector: (v) => JSON.stringify((v as Schema)[property]) });
    return s.uniqueItems ? fc.uniqueArray(items, { ...options, selector: (v) => JSON.stringify(v) }) : fc.array(items, options);
  },
  object: (s, doc) => {
    const properties = Object.fromEntries(Object.entries(s.properties ?? {}).map(([key, p]) => [key, doc.arbitrary(p as Schema)]));
    const declared = fc.record(properties, { requiredKeys: s.required ?? [] });
    if (s.additionalProperties === false) return declared;
    // An open object admits any other property: so do the requests generated from it.
    const other = fc.stringMatching(/^[a-z][a-zA-Z0-9]{0,9}$/).filter((key) => !(key in properties));
    return fc
      .tuple(declared, fc.dictionary(other, fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 }))
      .map(([known, more]) => ({ ...more, ...known }));
  },
};

function mergeBranch(parent: Schema, branch: Schema): Schema {
  return { ...parent, ...branch, required: [...new Set([...(parent.required ?? []), ...(branch.required ?? [])])] };
}

/** The path parameters of a request path matching a template such as /orders/{orderId}, decoded; undefined if it does not match. */
function matchTemplate(template: string, path: string): Record<string, string> | undefined {
  const names: string[] = [];
  const pattern = template
    .split(/(\{[^}]+\})/)
    .map((part) => {
      const name = /^\{([^}]+)\}$/.exec(part)?.[1];
      if (!name) return part.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
      names.push(name);
      return '([^/]+)';
    })
    .join('');
  // As Express routes: case-insensitive, an optional trailing slash.
  const match = new RegExp(`^${pattern.replace(/\/$/, '')}/?$`, 'i').exec(path);
  if (!match) return undefined;
  try {
    return Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(match[i + 1])]));
  } catch {
    return Object.fromEntries(names.map((name, i) => [name, match[i + 1]]));
  }
}

function header(headers: Record<string, string>, name: string): string | undefined {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : headers[key].trim();
}

const escape = (part: string) => part.replace(/~/g, '~0').replace(/\//g, '~1');
const unescape = (part: string) => part.replace(/~1/g, '/').replace(/~0/g, '~');
