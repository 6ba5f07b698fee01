/**
 * Stable error codes. Every error that crosses RabbitMQ is a ContractError `{ code, message }`:
 * `instanceof` does not survive a process boundary, a code does.
 */
export enum ErrorCode {
  VALIDATION_FAILED = 'VALIDATION_FAILED',
  FOOD_NOT_FOUND = 'FOOD_NOT_FOUND',
  /** No dark store has this id. */
  STORE_NOT_FOUND = 'STORE_NOT_FOUND',
  STORE_EXISTS = 'STORE_EXISTS',
  /** Every store id of the partition's range (PARTITION_MAP) is taken: a store goes in another partition. */
  STORE_RANGE_FULL = 'STORE_RANGE_FULL',
  /** HTTP only: POST /stores names a partition PARTITION_MAP does not have. */
  PARTITION_NOT_FOUND = 'PARTITION_NOT_FOUND',
  FOOD_EXISTS = 'FOOD_EXISTS',
  AGENT_EXISTS = 'AGENT_EXISTS',
  ORDER_NOT_FOUND = 'ORDER_NOT_FOUND',
  /**
   * A look-up only: a gateway minted this order id less than ORDER_LOST_AFTER_MS ago and its command
   * has not reached the order service yet. It may still start, or end NOT_PLACED (REQUEST_EXPIRED,
   * REQUEST_LOST); the gateway answers it as it answered the POST, 202 PENDING.
   */
  ORDER_PENDING = 'ORDER_PENDING',
  ORDER_NOT_DELIVERABLE = 'ORDER_NOT_DELIVERABLE',
  /** Reserve refusals. OUT_OF_STOCK and NO_AGENT are final: nothing is free and nothing is on its way back. */
  UNKNOWN_FOOD = 'UNKNOWN_FOOD',
  OUT_OF_STOCK = 'OUT_OF_STOCK',
  NO_AGENT = 'NO_AGENT',
  /** Nothing free right now, but some rows are reserved by orders still deciding: ask again shortly. */
  ALL_RESERVED = 'ALL_RESERVED',
  /** A reserve that arrives after the release of the same order ("hanging" reservation): refused. */
  ORDER_RELEASED = 'ORDER_RELEASED',
  /**
   * A reserve of an order minted before the participant's retention horizon (RETENTION_MS): its
   * barrier row may be pruned, so a release can no longer be told from none. Refused, final.
   */
  ORDER_TOO_OLD = 'ORDER_TOO_OLD',
  /** Assign refused: the row is no longer reserved for this order (expired and taken, or released). */
  RESERVATION_LOST = 'RESERVATION_LOST',
  /** A call timed out or could not be sent: its outcome is unknown. */
  SERVICE_UNAVAILABLE = 'SERVICE_UNAVAILABLE',
  INTERNAL = 'INTERNAL',
  /** A message whose pattern no handler of the receiving service knows. */
  UNKNOWN_PATTERN = 'UNKNOWN_PATTERN',
  /** The same Idempotency-Key sent again with a different request (another food, another stock or staff addition). */
  IDEMPOTENCY_KEY_REUSED = 'IDEMPOTENCY_KEY_REUSED',
  /** HTTP only: answered by the gateway itself, never by a service. */
  UNAUTHORIZED = 'UNAUTHORIZED',
  ROUTE_NOT_FOUND = 'ROUTE_NOT_FOUND',
  /** A method the path does not take; the answer's Allow header lists those it does. */
  METHOD_NOT_ALLOWED = 'METHOD_NOT_ALLOWED',
  PAYLOAD_TOO_LARGE = 'PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE = 'UNSUPPORTED_MEDIA_TYPE',
  TOO_MANY_REQUESTS = 'TOO_MANY_REQUESTS',
}

export interface ContractError {
  code: ErrorCode;
  message: string;
  /** Field-level messages, for VALIDATION_FAILED; each food short and by how many, for OUT_OF_STOCK. */
  details?: string[] | Shortage[];
}

/** A food of a cart its store has too few packets of: free, or held by orders still deciding. */
export interface Shortage {
  foodId: number;
  missing: number;
}

export function isContractError(value: unknown): value is ContractError {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ContractError).code === 'string' &&
    Object.values(ErrorCode).includes((value as ContractError).code)
  );
}
