import { DeliveryPattern, OrderPattern, StorePattern } from './patterns';

/**
 * Base names of the request queues; QUEUE_PREFIX in config keeps tests and demos apart. Each
 * participant consumes two: its protocol queue, where the coordinator's reserve, assign and release
 * messages flow, and its admin queue, for listings and stock or staff additions. Reads and admin
 * calls then wait in a queue of their own, with their own consumer, and never ahead of an order.
 */
export const Queue = {
  ORDER: 'order',
  STORE: 'store',
  STORE_ADMIN: 'store.admin',
  DELIVERY: 'delivery',
  DELIVERY_ADMIN: 'delivery.admin',
} as const;
export type QueueName = (typeof Queue)[keyof typeof Queue];

export function queueName(prefix: string, queue: QueueName): string {
  return `${prefix}${queue}`;
}

/**
 * The patterns each queue carries: a sender puts a pattern on its queue, and a service refuses a
 * pattern that arrives on another (see ReplySafeServerRMQ). Health travels on every queue, so a
 * probe shows that the service consumes each of them.
 */
export const QUEUE_PATTERNS: Readonly<Record<QueueName, readonly string[]>> = {
  [Queue.ORDER]: Object.values(OrderPattern),
  [Queue.STORE]: [
    StorePattern.HEALTH,
    StorePattern.RESERVE_CART,
    StorePattern.ASSIGN_PACKETS,
    StorePattern.RELEASE_PACKETS,
    StorePattern.RESERVE_CARTS,
    StorePattern.ASSIGN_PACKETS_BATCH,
    StorePattern.RELEASE_PACKETS_BATCH,
  ],
  [Queue.STORE_ADMIN]: [
    StorePattern.HEALTH,
    StorePattern.CREATE_STORE,
    StorePattern.LIST_STORES,
    StorePattern.CREATE_FOOD,
    StorePattern.ADD_PACKETS,
    StorePattern.LIST_FOODS,
  ],
  [Queue.DELIVERY]: [
    DeliveryPattern.HEALTH,
    DeliveryPattern.RESERVE_AGENT,
    DeliveryPattern.ASSIGN_AGENT,
    DeliveryPattern.RELEASE_AGENT,
    DeliveryPattern.YIELD_AGENT,
    DeliveryPattern.COMPLETE_DELIVERY,
    DeliveryPattern.RESERVE_AGENTS,
    DeliveryPattern.ASSIGN_AGENTS,
    DeliveryPattern.RELEASE_AGENTS,
  ],
  [Queue.DELIVERY_ADMIN]: [DeliveryPattern.HEALTH, DeliveryPattern.CREATE_AGENTS, DeliveryPattern.LIST_AGENTS],
};

/**
 * Where a service puts the messages it cannot process at all (unparsable, no pattern it knows, no
 * reply-to): kept for inspection, never redelivered. See ReplySafeServerRMQ.
 */
export function deadLetterQueueName(queue: string): string {
  return `${queue}.dead-letter`;
}
