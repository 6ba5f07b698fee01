import { DeliveryPattern, OrderPattern, StorePattern } from './patterns';
import { Queue, QUEUE_PATTERNS } from './queues';

describe('QUEUE_PATTERNS', () => {
  const queuesOf = (pattern: string) => Object.values(Queue).filter((queue) => QUEUE_PATTERNS[queue].includes(pattern));

  it('puts every pattern but health on exactly one queue, of its own service', () => {
    for (const [service, patterns] of [
      ['order', OrderPattern],
      ['store', StorePattern],
      ['delivery', DeliveryPattern],
    ] as const) {
      for (const pattern of Object.values(patterns).filter((p) => !p.endsWith('.health'))) {
        expect([pattern, queuesOf(pattern)]).toEqual([pattern, [expect.stringMatching(new RegExp(`^${service}(\\.admin)?$`))]]);
      }
    }
  });

  it('carries health on every queue of a service, so a probe shows it consumes each', () => {
    expect(queuesOf(StorePattern.HEALTH)).toEqual([Queue.STORE, Queue.STORE_ADMIN]);
    expect(queuesOf(DeliveryPattern.HEALTH)).toEqual([Queue.DELIVERY, Queue.DELIVERY_ADMIN]);
    expect(queuesOf(OrderPattern.HEALTH)).toEqual([Queue.ORDER]);
  });

  it('keeps what the coordinator sends during an order off the admin queues', () => {
    const protocol = [
      StorePattern.RESERVE_CART,
      StorePattern.ASSIGN_PACKETS,
      StorePattern.RELEASE_PACKETS,
      DeliveryPattern.RESERVE_AGENT,
      DeliveryPattern.ASSIGN_AGENT,
      DeliveryPattern.RELEASE_AGENT,
      DeliveryPattern.YIELD_AGENT,
      DeliveryPattern.COMPLETE_DELIVERY,
    ];
    for (const pattern of protocol) expect(queuesOf(pattern)).not.toContain(expect.stringMatching(/\.admin$/));
    for (const pattern of [StorePattern.LIST_FOODS, StorePattern.CREATE_FOOD, StorePattern.ADD_PACKETS])
      expect(queuesOf(pattern)).toEqual([Queue.STORE_ADMIN]);
    for (const pattern of [DeliveryPattern.LIST_AGENTS, DeliveryPattern.CREATE_AGENTS])
      expect(queuesOf(pattern)).toEqual([Queue.DELIVERY_ADMIN]);
  });
});
