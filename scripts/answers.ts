import { connectUtc } from '@app/database';
import {
  CartLine,
  DEFAULT_STORE_ID,
  NotPlacedReason,
  OrderLine,
  ORDER_STATES,
  orderIdMintedAt,
  OrderState,
  outcomeOf,
  reachableFrom,
} from '@app/contracts';
import { RowDataPacket } from 'mysql2/promise';
import { setTimeout as sleep } from 'node:timers/promises';
import { CheckOptions, Violation } from './check';

/**
 * I4, the truth to the user: every HTTP answer a run's clients got, compared with the final state of
 * the orders in the order database. The fault suite and the chaos run use this one definition, as
 * they use check.ts for the other invariants.
 */

export type Route =
  | 'POST /orders'
  | 'GET /orders/:id'
  | 'POST /orders/:id/delivered'
  | 'POST /foods/:id/packets'
  | 'POST /agents'
  | 'POST /stores/:id/packets'
  | 'POST /stores/:id/agents';

/** What a POST /orders asks for: lines of one dark store. */
export interface Cart {
  storeId: number;
  items: CartLine[];
}

/** The cart the single-food form `{ foodId }` stands for: one packet of the food from the default dark store. */
export function singleFoodCart(foodId: number): Cart {
  return { storeId: DEFAULT_STORE_ID, items: [{ foodId, quantity: 1 }] };
}

/** One request and what its client was told. */
export interface Exchange {
  route: Route;
  /** The HTTP status, or 'no-answer' when the connection failed or no answer came in time. */
  status: number | 'no-answer';
  /** The JSON body of the answer. */
  body?: Record<string, unknown>;
  /** POST /orders: the Idempotency-Key sent, if any. */
  key?: string;
  /** POST /orders: the cart asked for (the single-food form as singleFoodCart). */
  cart?: Cart;
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
  /** Null, with no items, only for an order whose command never arrived (REQUEST_LOST). */
  storeId: number | null;
  items: OrderLine[];
  agentId: number | null;
  key: string | null;
  /** When the order service recorded it (epoch ms, the database's clock). */
  createdAt?: number;
}

/**
 * How long after an order's recording a look-up may still miss it: the row's `created_at` is its
 * INSERT's time and it is seen from its commit, a moment later, and the look-up is timed by the
 * client's clock (assumed to agree with the database's to well within this, as order deadlines assume).
 */
const RECORD_VISIBLE_MS = 2000;

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
  const handedOut = new Set(exchanges.filter((x) => x.route === 'POST /orders').map((x) => text(x.body?.orderId)));
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
          ? lookUpAnswerBroken(x, order, knownSince.get(x.orderId!), lostAfterMs, handedOut.has(x.orderId!))
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
  // Whatever it says, an answer naming an order speaks of an order of the cart asked for (unless
  // its command never arrived: recorded lost, the order has no cart).
  if (orderId && order && order.storeId !== null && x.cart && !sameCart(x.cart, order))
    return `for ${describeCart(x.cart)} with order ${orderId} of ${describeCart(order)}`;
  switch (x.status) {
    case 201:
      if (!order || !isPlaced(order.state)) return `for order ${orderId} that is ${state}`;
      return placedViewBroken(x.body ?? {}, order);
    case 409:
    case 503:
      // 503 with no order id: the command never left the gateway, so this request made nothing
      // (but with a key, an earlier request of the same cart may have: then its order must not be placed).
      if (!orderId) {
        if (x.status === 409) return 'without an order id';
        const sameRequest = order && (!x.cart || sameCart(x.cart, order));
        return sameRequest && order.state !== OrderState.NOT_PLACED
          ? `(not placed) while the key's order ${order.id} is ${state}`
          : undefined;
      }
      if (order?.state !== OrderState.NOT_PLACED) return `(not placed) for order ${orderId} that is ${state}`;
      if (order.reason !== text(x.body?.code)) return `for order ${orderId} that is NOT_PLACED for ${order.reason}`;
      return order.reason === NotPlacedReason.OUT_OF_STOCK ? shortagesBroken(x.body?.details, order) : undefined;
    case 202:
      if (orderId) return order && isSettled(order.state) ? undefined : `(pending) for order ${orderId} that never settled: ${state}`;
      return x.key !== undefined && x.body?.idempotencyKey === x.key ? undefined : 'pending with neither an order id nor the request key';
    case 422:
      // One cart per key: a request with the key of an order of another cart is refused, and only such a request.
      if (x.body?.code !== 'IDEMPOTENCY_KEY_REUSED' || x.key === undefined || !x.cart) return 'to a well-formed cart';
      if (!order) return `but no order has key ${x.key}`;
      return sameCart(x.cart, order) ? `but the key's order ${order.id} is of the same cart, ${describeCart(order)}` : undefined;
    default:
      return 'to a well-formed cart with a fresh or reused key';
  }
}

/**
 * What a 201 or a look-up of a placed order shows wrongly: its dark store, its lines with their
 * packets, its agent, and, for an order of one packet, that packet (as the single-food API answers).
 */
function placedViewBroken(body: Record<string, unknown>, order: OrderRow): string | undefined {
  const shown = `dark store ${text(body.storeId)}, ${describeLines(body.items)}, agent ${text(body.agentId)}`;
  const held = `dark store ${order.storeId}, ${describeLines(order.items)}, agent ${order.agentId}`;
  if (Number(body.storeId) !== order.storeId || Number(body.agentId) !== order.agentId || !sameLines(body.items, order.items))
    return `showing ${shown} for order ${order.id} that holds ${held}`;
  const [only] = order.items;
  const single = order.items.length === 1 && only.quantity === 1;
  if (single && (Number(body.foodId) !== only.foodId || Number(body.packetId) !== only.packetIds[0]))
    return `with food ${text(body.foodId)} and packet ${text(body.packetId)} for order ${order.id} of one packet, ${only.packetIds[0]} of food ${only.foodId}`;
  if (!single && (body.packetId !== undefined || body.foodId !== undefined))
    return `with a single food's packet for order ${order.id} of several packets`;
  return undefined;
}

/** An OUT_OF_STOCK refusal names each food the order records as short, and by as many packets. */
function shortagesBroken(details: unknown, order: OrderRow): string | undefined {
  const told = Array.isArray(details) ? (details as { foodId?: unknown; missing?: unknown }[]) : [];
  const recorded = order.items.filter((line) => line.missing !== undefined);
  const said = told.map((d) => `${text(d.missing)} of food ${text(d.foodId)}`).sort();
  const truth = recorded.map((line) => `${line.missing} of food ${line.foodId}`).sort();
  return JSON.stringify(said) === JSON.stringify(truth)
    ? undefined
    : `naming as missing [${said.join(', ')}] for order ${order.id} that records [${truth.join(', ')}]`;
}

function lookUpAnswerBroken(
  x: Exchange,
  order: OrderRow | undefined,
  knownAt: number | undefined,
  lostAfterMs: number,
  handedOut: boolean,
): string | undefined {
  if (x.status === 503) return undefined;
  if (x.status === 404 || x.status === 202) {
    if (knownAt !== undefined && knownAt < x.sentAt!) return 'an earlier answer had named the order';
    // Even when no answer had named it: an order recorded before the look-up was sent is found.
    if (order?.createdAt !== undefined && order.createdAt + RECORD_VISIBLE_MS < x.sentAt!)
      return `the order was recorded ${x.sentAt! - order.createdAt} ms before the look-up was sent`;
    const mintedAt = orderIdMintedAt(x.orderId!);
    // Past ORDER_LOST_AFTER_MS a minted id is found, or recorded lost by this very look-up.
    if (mintedAt !== undefined && x.sentAt! > mintedAt + lostAfterMs + 1000) return `the id was minted ${x.sentAt! - mintedAt} ms earlier`;
    // Before that, an id a gateway handed out is pending, as the POST said; only one it never minted is unknown.
    if (x.status === 404) return handedOut ? 'a POST was answered with this id: it is pending until found or recorded lost' : undefined;
    if (x.body?.orderId !== x.orderId) return `the answer is about order ${text(x.body?.orderId)}`;
    return x.body?.state === 'PENDING' ? undefined : `the 202 says ${text(x.body?.state)}, not PENDING`;
  }
  if (x.status !== 200) return 'a look-up answers 200, 202, 404 or 503';
  const seen = x.body?.state as OrderState;
  if (x.body?.orderId !== x.orderId) return `the answer is about order ${text(x.body?.orderId)}`;
  if (!order) return `it was ${seen} but is not in the database`;
  if (!reachableFrom(seen).includes(order.state)) return `it was ${seen} but ended ${order.state}`;
  if ((x.body?.storeId ?? null) !== order.storeId) return `it showed dark store ${text(x.body?.storeId)}, the database ${order.storeId}`;
  return isPlaced(seen) ? placedViewBroken(x.body ?? {}, order) : undefined;
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
      `SELECT id, state, reason, store_id, items, agent_id, idempotency_key, created_at FROM \`${database.orderDb}\`.orders`,
    );
    return new Map(
      rows.map((r) => [
        String(r.id),
        {
          id: String(r.id),
          state: r.state as OrderState,
          reason: r.reason as NotPlacedReason | null,
          storeId: r.store_id === null ? null : Number(r.store_id),
          // JSON: text from MariaDB, parsed already by mysql2 from MySQL.
          items: (typeof r.items === 'string' ? JSON.parse(r.items) : r.items) as OrderLine[],
          agentId: r.agent_id === null ? null : Number(r.agent_id),
          key: r.idempotency_key as string | null,
          createdAt: (r.created_at as Date).getTime(),
        },
      ]),
    );
  } finally {
    await db.end();
  }
}

/** Whether an order is of this cart: the same dark store and the same lines, in whatever order they were listed. */
function sameCart(cart: Cart, order: { storeId: number | null; items: CartLine[] }): boolean {
  return describeCart(cart) === describeCart(order);
}

/** Whether the lines an answer shows are the order's: each food with its quantity and its very packets. */
function sameLines(shown: unknown, items: OrderLine[]): boolean {
  return Array.isArray(shown) && describeLines(shown) === describeLines(items);
}

function describeCart({ storeId, items }: { storeId: number | null; items: CartLine[] }): string {
  const lines = [...items].sort((a, b) => a.foodId - b.foodId).map((line) => `${line.quantity} x food ${line.foodId}`);
  return `the cart of dark store ${storeId}: ${lines.join(', ')}`;
}

/** Lines with their packets, in one order whatever order they came in. */
function describeLines(lines: unknown): string {
  if (!Array.isArray(lines)) return `lines ${JSON.stringify(lines)}`;
  const described = (lines as Partial<OrderLine>[]).map(
    (line) => `${line.quantity} x food ${line.foodId} (packets ${[...(line.packetIds ?? [])].sort((a, b) => a - b).join(' ')})`,
  );
  return `[${described.sort().join(', ')}]`;
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
