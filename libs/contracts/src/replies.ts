import { NotPlacedReason, OrderState } from './order-state';

/** The life of a packet or an agent row. */
export enum HoldState {
  FREE = 'FREE',
  RESERVED = 'RESERVED',
  ASSIGNED = 'ASSIGNED',
}

export interface PacketReservation {
  orderId: string;
  packetId: number;
}

export interface AgentReservation {
  orderId: string;
  agentId: number;
}

export interface PacketAssignment {
  orderId: string;
  packetId: number;
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

export interface AgentsView {
  agents: HoldCounts;
}

export interface AgentsCreated extends AgentsView {
  created: number;
}

export interface OrderLogEntry {
  state: OrderState;
  detail: string | null;
  at: string;
}

export interface OrderView {
  orderId: string;
  /** Null only for an order whose command never arrived (REQUEST_LOST). */
  foodId: number | null;
  state: OrderState;
  reason: NotPlacedReason | null;
  packetId: number | null;
  agentId: number | null;
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

/** Orders minted in the last `windowMs`, by where they stand now. */
export interface OrderOutcomes {
  windowMs: number;
  /** Outcome placed (see ORDER_STATES): PLACED, DELIVERING or DELIVERED. */
  placed: number;
  /** Outcome not placed: NOT_PLACED, or ABORTING on its way there. */
  notPlaced: number;
  /** Outcome not known yet: RESERVING or COMMITTING. */
  pending: number;
}

export interface RecentOrders {
  /** Newest first, each with its log. */
  orders: OrderView[];
  outcomes: OrderOutcomes;
}
