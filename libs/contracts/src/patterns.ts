/** Message patterns: the only names services use to talk to each other. */
export const StorePattern = {
  HEALTH: 'store.health',
  CREATE_STORE: 'store.store.create',
  /** Dark stores with their stock per food: all of them, or the one named. */
  LIST_STORES: 'store.store.list',
  CREATE_FOOD: 'store.food.create',
  ADD_PACKETS: 'store.food.add-packets',
  /** The food catalogue with the default store's stock (the single-food API). */
  LIST_FOODS: 'store.food.list',
  /** Phase 1 of a cart: every packet it asks for, of its store, in one transaction, or none. */
  RESERVE_CART: 'store.cart.reserve',
  ASSIGN_PACKETS: 'store.packet.assign',
  RELEASE_PACKETS: 'store.packet.release',
  /** The three above for many orders in one message and one transaction (BatchReply, see batch.ts). */
  RESERVE_CARTS: 'store.cart.reserve-batch',
  ASSIGN_PACKETS_BATCH: 'store.packet.assign-batch',
  RELEASE_PACKETS_BATCH: 'store.packet.release-batch',
} as const;

export const DeliveryPattern = {
  HEALTH: 'delivery.health',
  CREATE_AGENTS: 'delivery.agent.create',
  /** Agent counts per dark store: all stores with agents, or the one named. */
  LIST_AGENTS: 'delivery.agent.list',
  RESERVE_AGENT: 'delivery.agent.reserve',
  ASSIGN_AGENT: 'delivery.agent.assign',
  RELEASE_AGENT: 'delivery.agent.release',
  /** Gives back a reservation while the order waits for its packets; unlike release, the order may reserve again. */
  YIELD_AGENT: 'delivery.agent.yield',
  COMPLETE_DELIVERY: 'delivery.agent.complete',
  /** Reserve, assign and release for many orders in one message and one transaction (BatchReply, see batch.ts). */
  RESERVE_AGENTS: 'delivery.agent.reserve-batch',
  ASSIGN_AGENTS: 'delivery.agent.assign-batch',
  RELEASE_AGENTS: 'delivery.agent.release-batch',
} as const;

export const OrderPattern = {
  HEALTH: 'order.health',
  PLACE_ORDER: 'order.place',
  /** Many orders' commands in one message, answered as they settle (BatchProgress of OrderView, see batch.ts). */
  PLACE_ORDERS: 'order.place-batch',
  GET_ORDER: 'order.get',
  MARK_DELIVERED: 'order.delivered',
  /** The latest orders with their logs, and how many orders minted in a recent window ended each way. */
  RECENT_ORDERS: 'order.recent',
} as const;
