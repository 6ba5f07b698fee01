/**
 * What crosses a process boundary, and only that: queue names, message patterns, payload DTOs,
 * replies, error codes, order states and order ids. No transport, no database.
 */
export * from './queues';
export * from './patterns';
export * from './errors';
export * from './order-state';
export * from './order-id';
export * from './replies';
export * from './batch';
export * from './dto/fields';
export * from './dto/ids';
export * from './dto/order.dto';
export * from './dto/store.dto';
export * from './dto/delivery.dto';
export * from './dto/batch.dto';
