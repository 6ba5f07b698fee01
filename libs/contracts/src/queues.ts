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
