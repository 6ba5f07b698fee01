import { ErrorCode, NotPlacedReason, OrderState } from '@app/contracts';
import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiResponse, getSchemaPath, HeadersObject, ResponseObject, ResponsesObject } from '@nestjs/swagger';
import { HTTP_STATUS } from '../errors/http-status';
import { ApiErrorBody, ShortageDoc } from './schemas';

type Code = ErrorCode | NotPlacedReason;

const ORDER_ID = '019aa9e0-5c1e-7a2b-9c3d-4e5f6a7b8c9d';
const notPlaced = (message: string) => ({ message: `Order Not Placed: ${message}`, orderId: ORDER_ID, state: OrderState.NOT_PLACED });

/** An example body for every code (a new code without one fails the build). */
const EXAMPLES: Record<Code, Omit<ApiErrorBody, 'code'>> = {
  [ErrorCode.VALIDATION_FAILED]: { message: 'Invalid request', details: ['foodId must not be less than 1'] },
  [ErrorCode.FOOD_NOT_FOUND]: { message: 'Food 42 does not exist' },
  [ErrorCode.STORE_NOT_FOUND]: { message: 'Dark store 42 does not exist' },
  [ErrorCode.STORE_EXISTS]: { message: 'A dark store named "Koramangala" already exists' },
  [ErrorCode.STORE_RANGE_FULL]: { message: 'Every dark store id of this partition (1000 to 1999) is taken' },
  [ErrorCode.PARTITION_NOT_FOUND]: { message: 'No partition is named "west"; the partitions are north, south' },
  [ErrorCode.ORDER_NOT_FOUND]: { message: `Order ${ORDER_ID} does not exist` },
  [ErrorCode.ORDER_PENDING]: { message: `Order ${ORDER_ID} has not reached the order service yet` },
  [ErrorCode.FOOD_EXISTS]: { message: 'A food named "Idli" already exists' },
  [ErrorCode.AGENT_EXISTS]: { message: 'An agent with one of these names already exists' },
  [ErrorCode.ORDER_NOT_DELIVERABLE]: { message: `Order ${ORDER_ID} is NOT_PLACED, not PLACED` },
  [ErrorCode.UNKNOWN_FOOD]: notPlaced('a food of the cart does not exist'),
  [ErrorCode.OUT_OF_STOCK]: {
    ...notPlaced('the dark store has too few packets of a food of the cart'),
    details: [{ foodId: 2, missing: 1 }],
  },
  [ErrorCode.NO_AGENT]: notPlaced('no delivery agent of the dark store is free'),
  [ErrorCode.ALL_RESERVED]: { message: 'Everything is reserved by orders still deciding' },
  [ErrorCode.ORDER_RELEASED]: { message: `Order ${ORDER_ID} was released already` },
  [ErrorCode.ORDER_TOO_OLD]: { message: `Order ${ORDER_ID} is older than RETENTION_MS (604800000 ms); not reserving` },
  [ErrorCode.RESERVATION_LOST]: { message: `The reservation of order ${ORDER_ID} was lost` },
  [ErrorCode.SERVICE_UNAVAILABLE]: { message: 'store.food.list: no reply within 2000 ms; outcome unknown' },
  [ErrorCode.INTERNAL]: { message: 'Internal error; see the gateway log' },
  [ErrorCode.UNKNOWN_PATTERN]: { message: 'No handler for pattern store.packet.steal' },
  [ErrorCode.IDEMPOTENCY_KEY_REUSED]: { message: 'Idempotency-Key "checkout-7f3a" was used for another request (food 2)' },
  [ErrorCode.UNAUTHORIZED]: { message: 'This endpoint needs the admin key in the x-api-key header' },
  [ErrorCode.ROUTE_NOT_FOUND]: { message: 'Cannot GET /nowhere' },
  [ErrorCode.METHOD_NOT_ALLOWED]: { message: 'DELETE is not allowed on /orders; allowed: POST' },
  [ErrorCode.PAYLOAD_TOO_LARGE]: { message: 'The request body is larger than 131072 bytes' },
  [ErrorCode.UNSUPPORTED_MEDIA_TYPE]: { message: 'A request body must be JSON: send content-type: application/json' },
  [ErrorCode.TOO_MANY_REQUESTS]: { message: 'Too many orders from this client; retry after the Retry-After seconds' },
  [NotPlacedReason.RESERVATION_EXPIRED]: notPlaced('a reservation expired before it could be assigned'),
  [NotPlacedReason.COORDINATOR_RECOVERY]: notPlaced('the order service restarted before deciding'),
  [NotPlacedReason.REQUEST_EXPIRED]: notPlaced('the order service received the request too late'),
  [NotPlacedReason.REQUEST_LOST]: notPlaced('the request never reached the order service'),
};

/** Headers an error answer carries beside its body. */
const HEADERS: Partial<Record<string, HeadersObject>> = {
  [ErrorCode.TOO_MANY_REQUESTS]: {
    'Retry-After': { description: 'Seconds until the client may order again', schema: { type: 'integer', minimum: 0, example: 12 } },
  },
};

/**
 * Documents the error answers a route can give: one response per HTTP status (taken from
 * HTTP_STATUS, the table the error filter uses), each with an example body per code.
 */
export function ApiErrors(...codes: Code[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiExtraModels(ApiErrorBody, ShortageDoc),
    ...Object.entries(errorResponses(codes)).map(([status, response]) => ApiResponse({ status: Number(status), ...response })),
  );
}

/** Adds error answers to a documented operation's responses, merging the examples of a status it already has. */
export function addErrorResponses(responses: ResponsesObject, codes: Code[]): void {
  for (const [status, response] of Object.entries(errorResponses(codes))) {
    const known = responses[status] as ResponseObject | undefined;
    if (!known) {
      responses[status] = response;
      continue;
    }
    const examples = known.content!['application/json'].examples!;
    const added = Object.keys(response.content!['application/json'].examples!).filter((code) => !(code in examples));
    for (const code of added) examples[code] = response.content!['application/json'].examples![code];
    if (response.headers) known.headers = { ...known.headers, ...response.headers };
    known.description = describe(Object.keys(examples));
  }
}

function errorResponses(codes: Code[]): Record<string, ResponseObject> {
  const byStatus = new Map<number, Code[]>();
  for (const code of new Set([...codes, ErrorCode.INTERNAL]))
    byStatus.set(HTTP_STATUS[code], [...(byStatus.get(HTTP_STATUS[code]) ?? []), code]);
  return Object.fromEntries(
    [...byStatus].map(([status, group]) => {
      const headers = Object.assign({}, ...group.map((code) => HEADERS[code])) as HeadersObject;
      const response: ResponseObject = {
        description: describe(group),
        content: {
          'application/json': {
            schema: { $ref: getSchemaPath(ApiErrorBody) },
            examples: Object.fromEntries(group.map((code) => [code, { summary: code, value: { code, ...EXAMPLES[code] } }])),
          },
        },
        ...(Object.keys(headers).length > 0 && { headers }),
      };
      return [status, response];
    }),
  );
}

const describe = (codes: string[]) => `Error \`{ code, message, ... }\`; code ${codes.map((code) => `\`${code}\``).join(', ')}`;
