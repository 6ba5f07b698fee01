import { NotPlacedReason, OrderState } from './order-state';

/** The life of a packet or an agent row. */
export enum HoldState {
  FREE = 'FREE',
  RESERVED = 'RESERVED',
  ASSIGNED = 'ASSIGNED',
}

/** One line of a cart: `quantity` packets of a food. */
export interface CartLine {
  foodId: number;
  quantity: number;
}

/** A line of a cart as the store holds it: the packets of the food held (or assigned) for the order. */
export interface HeldLine extends CartLine {
  packetIds: number[];
}

/** Phase 1 at the store: every line of the cart, held. */
export interface CartReservation {
  orderId: string;
  items: HeldLine[];
}

export interface AgentReservation {
  orderId: string;
  agentId: number;
}

export interface PacketsAssignment {
  orderId: string;
  packetIds: number[];
}

export interface AgentAssignment {
  orderId: string;
  agentId: number;
}

/** Reply to release, yield and complete: how many rows this order held that are free again. */
export interface ReleaseResult {
  orderId: string;
  freed: number;
}

export interface HoldCounts {
  free: number;
  reserved: number;
  assigned: number;
  total: number;
}

/** Tallies `{ state, n }` rows (a GROUP BY state) into HoldCounts. */
export function tallyHoldCounts(rows: { state: string; n: number | string }[]): HoldCounts {
  const counts: HoldCounts = { free: 0, reserved: 0, assigned: 0, total: 0 };
  for (const row of rows) {
    counts[row.state.toLowerCase() as 'free' | 'reserved' | 'assigned'] += Number(row.n);
    counts.total += Number(row.n);
  }
  return counts;
}

export interface FoodView {
  id: number;
  name: string;
  packets: HoldCounts;
}

/** The agents of the default dark store (GET /agents, the single-store API). */
export interface AgentsView {
  agents: HoldCounts;
}

/** A dark store's agents, as delivery counts them. */
export interface StoreAgents {
  storeId: number;
  agents: HoldCounts;
}

export interface AgentsCreated extends StoreAgents {
  created: number;
}

/** A dark store as the store service knows it: its name and, per food of the catalogue, its packets. */
export interface StoreStock {
  id: number;
  name: string;
  foods: FoodView[];
}

/** A dark store as GET /stores shows it: its stock and its agents. */
export interface StoreView extends StoreStock {
  agents: HoldCounts;
}

export interface OrderLogEntry {
  state: OrderState;
  detail: string | null;
  at: string;
}

/**
 * A line of an order: what the cart asked for; once decided to commit, the packets it holds; when
 * refused OUT_OF_STOCK, how many packets of the food were missing.
 */
export interface OrderLine {
  foodId: number;
  quantity: number;
  packetIds: number[];
  missing?: number;
}

export interface OrderView {
  orderId: string;
  /** Null only for an order whose command never arrived (REQUEST_LOST). */
  storeId: number | null;
  /** Empty only for an order whose command never arrived. */
  items: OrderLine[];
  state: OrderState;
  reason: NotPlacedReason | null;
  agentId: number | null;
  /** For an order of one packet (the single-food API): its food and, once decided to commit, its packet. */
  foodId?: number;
  packetId?: number | null;
  createdAt: string;
  updatedAt: string;
  log?: OrderLogEntry[];
}

/** A service's answer to its health pattern: it is reachable; `database` says whether its database answers. */
export interface HealthReply {
  service: string;
  status: 'ok';
  database: 'up' | 'down';
  error?: string;
}

/** Orders, by where they stand now. */
export interface OutcomeCounts {
  /** Outcome placed (see ORDER_STATES): PLACED, DELIVERING or DELIVERED. */
  placed: number;
  /** Outcome not placed: NOT_PLACED, or ABORTING on its way there. */
  notPlaced: number;
  /** Outcome not known yet: RESERVING or COMMITTING. */
  pending: number;
}

/** The orders of one dark store among those of a window. */
export interface StoreOutcomes extends OutcomeCounts {
  storeId: number;
}

/** Orders minted in the last `windowMs`, by where they stand now: all of them, and per dark store. */
export interface OrderOutcomes extends OutcomeCounts {
  windowMs: number;
  /**
   * Each dark store that has orders in the window, by store id. An order whose command never
   * arrived (REQUEST_LOST) has no store: it counts in the totals only.
   */
  stores: StoreOutcomes[];
}

export interface RecentOrders {
  /** Newest first, each with its log. */
  orders: OrderView[];
  outcomes: OrderOutcomes;
}
