/**
 * What the database-owning services (order, store, delivery) run on besides the platform: their
 * database settings, TypeORM data source, migrations under a lock, transactions with retries,
 * requests run once per Idempotency-Key, the health check of their database, their start-up, and
 * the pruning of rows past RETENTION_MS. The gateway never imports it.
 */
export * from './database.env';
export * from './database';
export * from './transaction';
export * from './idempotent';
export * from './service-health';
export * from './bootstrap';
export * from './retention';
