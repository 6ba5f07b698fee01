import { IntField, StringField, UuidField } from './fields';

/** The largest id of a food or a dark store (INT in MySQL). */
export const MAX_ID = 2_147_483_647;

/** The food of an order, a cart line or a stock top-up; the same rule wherever it travels. */
export const FoodIdField = (description = 'The food') => IntField({ min: 1, max: MAX_ID, description, example: 1 });

/** A dark store, wherever one is named: a path, a cart, a stock or staff addition. */
export const StoreIdField = (description = 'The dark store') => IntField({ min: 1, max: MAX_ID, description, example: 1 });

/**
 * The id of an order a command or a reserve may start: a UUIDv7, as the gateways mint them, so its
 * first 48 bits say when (orderIdMintedAt). The coordinator refuses a command past
 * ORDER_LOST_AFTER_MS and a participant a reserve past RETENTION_MS by that time, and retention
 * prunes barrier and log rows by it; an id of another version would carry no time to read.
 */
export const OrderIdField = () => UuidField({ version: 7 });

/** Idempotency-Key: 1 to 100 letters, digits and `_ . : -` (a UUID fits). */
export const IDEMPOTENCY_KEY_MAX_LENGTH = 100;
export const IDEMPOTENCY_KEY = new RegExp(`^[A-Za-z0-9_.:-]{1,${IDEMPOTENCY_KEY_MAX_LENGTH}}$`);

/** A command's Idempotency-Key, as the gateway passes it on (the client's, or one it minted). */
export const IdempotencyKeyField = ({ optional = false } = {}) =>
  StringField({ optional, maxLength: IDEMPOTENCY_KEY_MAX_LENGTH, pattern: IDEMPOTENCY_KEY });
