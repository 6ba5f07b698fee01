/** Message patterns: the only names services use to talk to each other. */
export const StorePattern = {
  HEALTH: 'store.health',
  CREATE_FOOD: 'store.food.create',
  ADD_PACKETS: 'store.food.add-packets',
  LIST_FOODS: 'store.food.list',
  RESERVE_PACKET: 'store.packet.reserve',
  ASSIGN_PACKET: 'store.packet.assign',
  RELEASE_PACKET: 'store.packet.release',
} as const;

export const DeliveryPattern = {
  HEALTH: 'delivery.health',
  CREATE_AGENTS: 'delivery.agent.create',
  LIST_AGENTS: 'delivery.agent.list',
  RESERVE_AGENT: 'delivery.agent.reserve',
  ASSIGN_AGENT: 'delivery.agent.assign',
  RELEASE_AGENT: 'delivery.agent.release',
  /** Gives back a reservation while the order waits for a packet; unlike release, the order may reserve again. */
  YIELD_AGENT: 'delivery.agent.yield',
  COMPLETE_DELIVERY: 'delivery.agent.complete',
} as const;

export const OrderPattern = {
  HEALTH: 'order.health',
  PLACE_ORDER: 'order.place',
  GET_ORDER: 'order.get',
  MARK_DELIVERED: 'order.delivered',
  /** The latest orders with their logs, and how many orders minted in a recent window ended each way. */
  RECENT_ORDERS: 'order.recent',
} as const;
