/** Base names of the request queues; QUEUE_PREFIX in config keeps tests and demos apart. */
export const Queue = {
  ORDER: 'order',
  STORE: 'store',
  DELIVERY: 'delivery',
} as const;
export type QueueName = (typeof Queue)[keyof typeof Queue];

export function queueName(prefix: string, queue: QueueName): string {
  return `${prefix}${queue}`;
}

/**
 * Where a service puts the messages it cannot process at all (unparsable, no pattern it knows, no
 * reply-to): kept for inspection, never redelivered. See ReplySafeServerRMQ.
 */
export function deadLetterQueueName(queue: string): string {
  return `${queue}.dead-letter`;
}
