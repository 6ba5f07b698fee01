import { connectUtc } from '@app/database';
import { NotPlacedReason, ORDER_STATES, orderIdMintedAt, OrderState, outcomeOf, reachableFrom } from '@app/contracts';
import { RowDataPacket } from 'mysql2/promise';
import { setTimeout as sleep } from 'node:timers/promises';
import { CheckOptions, Violation } from './check';

/**
 * I4, the truth to the user: every HTTP answer a run's clients got, compared with the final state of
 * the orders in the order database. The fault suite and the chaos run use this one definition, as
 * they use check.ts for the other invariants.
 */

export type Route = 'POST /orders' | 'GET /orders/:id' | 'POST /orders/:id/delivered' | 'POST /foods/:id/packets' | 'POST /agents';

/** One request and what its client was told. */
export interface Exchange {
  route: Route;
  /** The HTTP status, or 'no-answer' when the connection failed or no answer came in time. */
  status: number | 'no-answer';
  /** The JSON body of the answer. */
  body?: Record<string, unknown>;
  /** POST /orders: the Idempotency-Key sent, if any. */
  key?: string;
  /** GET /orders/:id and POST /orders/:id/delivered: the order asked about. */
  orderId?: string;
  /** When the request was sent and answered (epoch ms). */
  sentAt?: number;
  answeredAt?: number;
}

export interface AnswerCheckOptions {
  database: CheckOptions;
  /** The order service's ORDER_LOST_AFTER_MS: an order id older than that is found or recorded lost. */
  lostAfterMs: number;
  /**
   * GET /orders/:id through a gateway, as a client told "pending" does: for an order whose command
   * was lost, that look-up is what settles it (REQUEST_LOST) once the command can no longer start.
   */
  lookUp?: (orderId: string) => Promise<{ status: number; body: { state?: string } }>;
}

/** An order as the order database holds it at the end. */
export interface OrderRow {
  id: string;
  state: OrderState;
  reason: NotPlacedReason | null;
  packetId: number | null;
  agentId: number | null;
  key: string | null;
}

/** Statuses that promise nothing about an order: the request failed on the way, or a service was out of reach. */
const SILENT = new Set<Exchange['status']>(['no-answer', 500]);

/** Checks every answer against the final order states; returns one violation per broken promise. */
export async function checkAnswers(exchanges: Exchange[], options: AnswerCheckOptions): Promise<Violation[]> {
  if (options.lookUp) await lookUpPending(exchanges, options);
  return judgeAnswers(exchanges, await readOrders(options.database), options.lostAfterMs);
}

/** The rules of I4, on answers and the orders as they ended. */
export function judgeAnswers(exchanges: Exchange[], orders: Map<string, OrderRow>, lostAfterMs: number): Violation[] {
  const byKey = new Map([...orders.values()].filter((o) => o.key !== null).map((o) => [o.key!, o]));
  const violations: Violation[] = [];
  const flag = (message: string, ids: (string | undefined)[]) =>
    violations.push({ invariant: 'I4', message, ids: ids.filter((id): id is string => !!id) });
  const knownSince = firstSeen(exchanges);
  // Which requests were answered with each order: a key is one request however often it is sent.
  const requests = new Map<string, Set<string>>();

  exchanges.forEach((x, index) => {
    if (SILENT.has(x.status)) return;
    const code = text(x.body?.code);
    const said = `${x.route} answered ${x.status}${code ? ` ${code}` : ''}`;
    if (x.route === 'POST /orders') {
      const orderId = text(x.body?.orderId);
      const keyOrder = x.key === undefined ? undefined : byKey.get(x.key);
      if (orderId) {
        requests.set(orderId, (requests.get(orderId) ?? new Set()).add(x.key === undefined ? `request #${index}` : `key ${x.key}`));
        if (x.key !== undefined && orderId !== keyOrder?.id)
          flag(`${said} with order ${orderId} for key ${x.key}, whose order is ${keyOrder?.id ?? 'none'}`, [orderId, keyOrder?.id]);
      }
      // A keyed answer without an order id speaks of the order its key made, if any.
      const order = orderId ? orders.get(orderId) : keyOrder;
      const broken = placeAnswerBroken(x, orderId, order);
      if (broken) flag(`${said} ${broken}`, [orderId ?? order?.id]);
    } else if (x.route === 'GET /orders/:id' || x.route === 'POST /orders/:id/delivered') {
      const order = orders.get(x.orderId!);
      const broken =
        x.route === 'GET /orders/:id'
          ? lookUpAnswerBroken(x, order, knownSince.get(x.orderId!), lostAfterMs)
          : deliveryAnswerBroken(x, order);
      if (broken) flag(`${said} for order ${x.orderId}: ${broken}`, [x.orderId]);
    } else if (x.status !== 201 && x.status !== 503) {
      flag(`${said}: a stock or staff addition can only be made (201) or fail for now (503)`, []);
    }
  });
  for (const [orderId, askers] of requests) {
    if (askers.size > 1)
      flag(`order ${orderId} was the answer to ${askers.size} different requests (${[...askers].join(', ')})`, [orderId]);
  }
  return violations;
}

/** What is false in an answer to POST /orders, or undefined when it tells the truth. */
function placeAnswerBroken(x: Exchange, orderId: string | undefined, order: OrderRow | undefined): string | undefined {
  const state = order?.state ?? 'unknown';
  switch (x.status) {
    case 201:
      if (!order || !isPlaced(order.state)) return `for order ${orderId} that is ${state}`;
      if (Number(x.body?.packetId) !== order.packetId || Number(x.body?.agentId) !== order.agentId)
        return `with packet ${text(x.body?.packetId)} and agent ${text(x.body?.agentId)} for order ${orderId} that holds packet ${order.packetId} and agent ${order.agentId}`;
      return undefined;
    case 409:
    case 503:
      // 503 with no order id: the command never left the gateway, so this request made nothing
      // (but with a key, an earlier request may have: then its order must not be placed).
      if (!orderId) {
        if (x.status === 409) return 'without an order id';
        return order && order.state !== OrderState.NOT_PLACED ? `(not placed) while the key's order ${order.id} is ${state}` : undefined;
      }
      if (order?.state !== OrderState.NOT_PLACED) return `(not placed) for order ${orderId} that is ${state}`;
      return order.reason === text(x.body?.code) ? undefined : `for order ${orderId} that is NOT_PLACED for ${order.reason}`;
    case 202:
      if (orderId) return order && isSettled(order.state) ? undefined : `(pending) for order ${orderId} that never settled: ${state}`;
      return x.key !== undefined && x.body?.idempotencyKey === x.key ? undefined : 'pending with neither an order id nor the request key';
    default:
      return 'to a well-formed order with a fresh or reused key of one food';
  }
}

function lookUpAnswerBroken(
  x: Exchange,
  order: OrderRow | undefined,
  knownAt: number | undefined,
  lostAfterMs: number,
): string | undefined {
  if (x.status === 503) return undefined;
  if (x.status === 404) {
    if (knownAt !== undefined && knownAt < x.sentAt!) return 'an earlier answer had named the order';
    const mintedAt = orderIdMintedAt(x.orderId!);
    // Past ORDER_LOST_AFTER_MS a minted id is found, or recorded lost by this very look-up.
    if (mintedAt !== undefined && x.sentAt! > mintedAt + lostAfterMs + 1000) return `the id was minted ${x.sentAt! - mintedAt} ms earlier`;
    return undefined;
  }
  if (x.status !== 200) return 'a look-up answers 200, 404 or 503';
  const seen = x.body?.state as OrderState;
  if (x.body?.orderId !== x.orderId) return `the answer is about order ${text(x.body?.orderId)}`;
  if (!order) return `it was ${seen} but is not in the database`;
  if (!reachableFrom(seen).includes(order.state)) return `it was ${seen} but ended ${order.state}`;
  if (isPlaced(seen) && (x.body?.packetId !== order.packetId || x.body?.agentId !== order.agentId))
    return `it showed packet ${text(x.body?.packetId)} and agent ${text(x.body?.agentId)}, the database ${order.packetId} and ${order.agentId}`;
  return undefined;
}

function deliveryAnswerBroken(x: Exchange, order: OrderRow | undefined): string | undefined {
  const state = order?.state ?? 'unknown';
  switch (x.status) {
    case 200:
      if (x.body?.state !== OrderState.DELIVERED && x.body?.state !== OrderState.DELIVERING)
        return `the answer says ${text(x.body?.state)}`;
      return order?.state === OrderState.DELIVERED ? undefined : `it ended ${state}`;
    case 409:
      return order && isPlaced(order.state) ? `refused, but the order is ${state}` : undefined;
    case 404:
      return order ? `not found, but the order is ${state}` : undefined;
    case 503:
      return undefined;
    default:
      return 'delivery answers 200, 404, 409 or 503';
  }
}

/** When an answer first named each order as existing: a later 404 for it is false. */
function firstSeen(exchanges: Exchange[]): Map<string, number> {
  const seen = new Map<string, number>();
  for (const x of exchanges) {
    const orderId = text(x.body?.orderId);
    // A 202 may name an order whose command is still on its way; every other answer with an id read it.
    const named = x.route === 'POST /orders' ? x.status !== 202 : x.status === 200;
    if (!orderId || !named || x.answeredAt === undefined) continue;
    seen.set(orderId, Math.min(seen.get(orderId) ?? Infinity, x.answeredAt));
  }
  return seen;
}

/** Asks about every order a client was told is pending and the database does not show settled, until it settles. */
async function lookUpPending(exchanges: Exchange[], options: AnswerCheckOptions): Promise<void> {
  const orders = await readOrders(options.database);
  const pending = new Set(
    exchanges
      .filter((x) => x.route === 'POST /orders' && x.status === 202)
      .map((x) => text(x.body?.orderId))
      .filter((id): id is string => !!id && !isSettled(orders.get(id)?.state)),
  );
  const giveUpAt = Date.now() + options.lostAfterMs + 5000;
  for (const orderId of pending) {
    for (;;) {
      const { status, body } = await options.lookUp!(orderId);
      if ((status === 200 && isSettled(body.state)) || Date.now() > giveUpAt) break;
      await sleep(250);
    }
  }
}

async function readOrders(database: CheckOptions): Promise<Map<string, OrderRow>> {
  const db = await connectUtc({ host: database.host, port: database.port, user: database.user, password: database.password });
  try {
    const [rows] = await db.query<RowDataPacket[]>(
      `SELECT id, state, reason, packet_id, agent_id, idempotency_key FROM \`${database.orderDb}\`.orders`,
    );
    return new Map(
      rows.map((r) => [
        String(r.id),
        {
          id: String(r.id),
          state: r.state as OrderState,
          reason: r.reason as NotPlacedReason | null,
          packetId: r.packet_id === null ? null : Number(r.packet_id),
          agentId: r.agent_id === null ? null : Number(r.agent_id),
          key: r.idempotency_key as string | null,
        },
      ]),
    );
  } finally {
    await db.end();
  }
}

function text(value: unknown): string | undefined {
  return value === undefined || value === null ? undefined : String(value);
}

/** Answers counted by status, over all routes and per route. */
export function tallyAnswers(exchanges: Exchange[]): { byStatus: Record<string, number>; byRoute: Record<string, Record<string, number>> } {
  const byStatus: Record<string, number> = {};
  const byRoute: Record<string, Record<string, number>> = {};
  for (const { route, status } of exchanges) {
    byStatus[status] = (byStatus[status] ?? 0) + 1;
    byRoute[route] = byRoute[route] ?? {};
    byRoute[route][status] = (byRoute[route][status] ?? 0) + 1;
  }
  return { byStatus, byRoute };
}

function isPlaced(state: OrderState): boolean {
  return outcomeOf(state) === 'placed';
}

/** Whether `state` (as read from the database or an answer, maybe missing) is a settled order state. */
export function isSettled(state: string | undefined): boolean {
  return ORDER_STATES[state as OrderState]?.settled === true;
}
