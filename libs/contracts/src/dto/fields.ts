import { ApiProperty, DECORATORS } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsInt,
  IsObject,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  registerDecorator,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { Type } from 'class-transformer';

/*
 * The one declaration of a payload field: each decorator below applies the class-validator rules
 * that the gateway's ValidationPipe and the services' RPC pipe enforce AND the OpenAPI schema of
 * the same rules, so the document cannot say more or less than the server checks.
 *
 * A class with any of these fields is a closed schema (`additionalProperties: false`), as both
 * pipes refuse unknown properties (forbidNonWhitelisted). A field is required and never null
 * unless it says `optional` (then it may be absent, still not null).
 */

interface FieldDoc {
  description?: string;
  example?: unknown;
  /** May be absent (not null). */
  optional?: boolean;
}

/** A whole number in [min, max]; a JSON number only: "1" or 1.5 is refused. */
export function IntField({ min, max, ...doc }: FieldDoc & { min: number; max: number }): PropertyDecorator {
  return field(doc, { type: 'integer', minimum: min, maximum: max }, IsInt(), Min(min), Max(max));
}

/** A string of minLength to maxLength characters (at least one), matching `pattern` if given. */
export function StringField({
  minLength = 1,
  maxLength,
  pattern,
  ...doc
}: FieldDoc & { minLength?: number; maxLength: number; pattern?: RegExp }): PropertyDecorator {
  return field(
    doc,
    { type: 'string', minLength, maxLength, ...(pattern && { pattern: pattern.source }) },
    IsString(),
    minLength === 1 ? MinLength(1, { message: '$property should not be empty' }) : MinLength(minLength),
    MaxLength(maxLength),
    ...(pattern ? [Matches(pattern)] : []),
  );
}

/**
 * A UUID of version 1 to 8 (RFC 9562 variant), in either case. The rule is written once, as a
 * pattern JSON Schema validators read the same way (no flags).
 */
export const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$/;

/** A UUIDv7, the version whose first 48 bits say when it was minted; in either case. */
export const UUID_V7 = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-7[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$/;

/** A UUID (UUID), or with `version: 7` a UUIDv7 only (UUID_V7). */
export function UuidField({ version, ...doc }: FieldDoc & { version?: 7 } = {}): PropertyDecorator {
  const [pattern, message] = version === 7 ? [UUID_V7, '$property must be a UUIDv7'] : [UUID, '$property must be a UUID'];
  return field(doc, { type: 'string', format: 'uuid', pattern: pattern.source }, Matches(pattern, { message }));
}

/** An array of minItems to maxItems strings, each of minLength to maxLength characters. */
export function StringArrayField({
  minItems = 1,
  maxItems,
  unique = false,
  minLength = 1,
  maxLength,
  ...doc
}: FieldDoc & { minItems?: number; maxItems: number; unique?: boolean; minLength?: number; maxLength: number }): PropertyDecorator {
  return field(
    doc,
    { type: 'array', minItems, maxItems, ...(unique && { uniqueItems: true }), items: { type: 'string', minLength, maxLength } },
    IsArray(),
    ArrayMinSize(minItems),
    ArrayMaxSize(maxItems),
    ...(unique ? [ArrayUnique()] : []),
    IsString({ each: true }),
    minLength === 1
      ? MinLength(1, { each: true, message: 'each value in $property should not be empty' })
      : MinLength(minLength, { each: true }),
    MaxLength(maxLength, { each: true }),
  );
}

/** An array of minItems to maxItems whole numbers, each in [min, max], no two alike. */
export function IntArrayField({
  minItems = 1,
  maxItems,
  min,
  max,
  ...doc
}: FieldDoc & { minItems?: number; maxItems: number; min: number; max: number }): PropertyDecorator {
  return field(
    doc,
    { type: 'array', minItems, maxItems, uniqueItems: true, items: { type: 'integer', minimum: min, maximum: max } },
    IsArray(),
    ArrayMinSize(minItems),
    ArrayMaxSize(maxItems),
    ArrayUnique(),
    IsInt({ each: true }),
    Min(min, { each: true }),
    Max(max, { each: true }),
  );
}

/**
 * An array of minItems to maxItems objects of class `type` (itself declared with these fields),
 * no two with the same `uniqueBy` property. JSON Schema cannot say "unique by a property", so the
 * schema carries it as the extension `x-unique-by` (the tests' validator knows it).
 */
export function ObjectArrayField<T extends object>({
  type,
  minItems = 1,
  maxItems,
  uniqueBy,
  ...doc
}: FieldDoc & { type: new () => T; minItems?: number; maxItems: number; uniqueBy?: keyof T & string }): PropertyDecorator {
  const unique = uniqueBy
    ? [
        ArrayUnique((item: T) => (typeof item === 'object' && item !== null ? item[uniqueBy] : item), {
          message: `each ${uniqueBy} may appear only once in $property`,
        }),
      ]
    : [];
  return field(
    doc,
    uniqueBy ? { type: [type], minItems, maxItems, 'x-unique-by': uniqueBy } : { type: [type], minItems, maxItems },
    IsArray(),
    ArrayMinSize(minItems),
    ArrayMaxSize(maxItems),
    ...unique,
    // Nested validation alone passes an item that is an array (an empty one has nothing to validate).
    IsObject({ each: true, message: 'each value in $property must be an object' }),
    ValidateNested({ each: true }),
    Type(() => type),
  );
}

const EXACTLY_ONE_OF = Symbol('exactlyOneOf');

/**
 * Exactly one of these optional fields must be given: OpenAPI `oneOf` of their `required`, and the
 * same check for the pipes. With none given, the first one is validated as if required, so the
 * answer names what is missing.
 */
export function ExactlyOneOf(...keys: string[]): ClassDecorator {
  return (target) => {
    Reflect.defineMetadata(EXACTLY_ONE_OF, keys, target);
    mergeClassSchema(target, { oneOf: keys.map((key) => ({ required: [key] })) });
    const message = `give exactly one of ${keys.join(', ')}`;
    for (const propertyName of keys) {
      registerDecorator({
        name: 'exactlyOneOf',
        target,
        propertyName,
        options: { message },
        validator: { validate: (_: unknown, args) => keys.filter((key) => given(args!.object, key)).length === 1 },
      });
    }
  };
}

function field(doc: FieldDoc, schema: Record<string, unknown>, ...rules: PropertyDecorator[]): PropertyDecorator {
  const { optional = false, ...text } = doc;
  return (target, key) => {
    mergeClassSchema(target.constructor, { additionalProperties: false });
    ApiProperty({ ...schema, ...text, required: !optional })(target, key);
    if (optional) ValidateIf((object: object) => given(object, key) || neededByGroup(object, key))(target, key);
    for (const rule of rules) rule(target, key);
  };
}

const given = (object: object, key: string | symbol) => (object as Record<string | symbol, unknown>)[key] !== undefined;

function neededByGroup(object: object, key: string | symbol): boolean {
  const group: string[] | undefined = Reflect.getMetadata(EXACTLY_ONE_OF, object.constructor);
  return group?.[0] === key && !group.some((member) => given(object, member));
}

/** Adds keywords to the class's own OpenAPI schema (what @ApiSchema holds, merged, not replaced). */
function mergeClassSchema(target: object, keywords: Record<string, unknown>): void {
  const own: Record<string, unknown>[] = Reflect.getOwnMetadata(DECORATORS.API_SCHEMA, target) ?? [];
  Reflect.defineMetadata(DECORATORS.API_SCHEMA, [...own.slice(0, -1), { ...own.at(-1), ...keywords }], target);
}
