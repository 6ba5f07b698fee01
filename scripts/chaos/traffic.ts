import { DEFAULT_STORE_ID, orderIdMintedAt, OrderState } from '@app/contracts';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cart, Exchange, isSettled, singleFoodCart } from '../answers';
import { Dice } from './dice';

/** An exchange of the chaos run, with where it went and why it failed. */
export interface ChaosExchange extends Exchange {
  gateway: number;
  /** The client (0, 1, ...), an admin, or the checker's own look-ups at the end. */
  by: number | 'admin' | 'checker';
  error?: string;
}

export interface TrafficOptions {
  seed: number;
  clients: number;
  gateways: string[];
  adminKey: string;
  /** The catalogue: every store has packets of each. */
  foodIds: number[];
  /** The dark stores carts go to; single-food orders go to the default store. */
  storeIds: number[];
  /** The gateway's ORDER_WAIT_MS and the order service's ORDER_LOST_AFTER_MS. */
  orderWaitMs: number;
  lostAfterMs: number;
  /** When clients and admins stop starting anything new (epoch ms). */
  until: number;
  signal?: AbortSignal;
}

/** What the admins asked to add to each dark store (by id), and how much of it they know was added (201). */
export type Additions = Record<number, { packets: Tally; agents: Tally }>;
export interface Tally {
  confirmed: number;
  unknown: number;
}

/** A dark store and the foods a cart of it may list. */
export interface StoreFoods {
  storeId: number;
  foodIds: number[];
}

/** How a client sends one order. */
type Mode = 'once' | 'retry' | 'race';

/** The share of orders sent in the single-food form `{ foodId }` (to the default store). */
const SINGLE_FOOD = 0.1;
/** The share of keyed orders whose client, once told the outcome, sends the key again with another cart (answered IDEMPOTENCY_KEY_REUSED). */
const KEY_REUSE = 0.05;

/** A cart of one of `stores`, drawn from `dice`: 1 to `maxLines` of its foods, 1 or 2 packets of each. */
export function drawCart(dice: Dice, stores: StoreFoods[], maxLines = 3): Cart {
  const { storeId, foodIds } = dice.pick(stores);
  const foods = [...foodIds];
  const lines = dice.int(1, Math.min(maxLines, foods.length));
  const items = Array.from({ length: lines }, () => ({
    foodId: foods.splice(dice.int(0, foods.length - 1), 1)[0],
    quantity: dice.int(1, 2),
  }));
  return { storeId, items };
}

/** Tries of a keyed client that has not learnt its order yet (no answer, or 202 with only its key). */
const KEYED_TRIES = 10;

/**
 * The clients and admins of a chaos run. Clients place carts of 1 to 3 lines across the dark
 * stores, and some single-food orders (the default store), with Idempotency-Keys: once, again
 * after the answer (half the time through the other gateway), or twice at once through both
 * gateways; a client that learnt nothing sends the same request again, and one told "pending"
 * looks its order up until it settles, as the API asks; a few send a key they were answered with
 * again with another cart. Admins mark placed orders delivered and add packets and agents to each
 * store. Every request and answer is kept for the I4 check. Every choice comes from the seed,
 * drawn before the request is sent, so a seed gives the same requests whatever the answers; only
 * their timing differs between runs.
 */
export class Traffic {
  readonly exchanges: ChaosExchange[] = [];
  readonly added: Additions;
  /** Orders a client was told are placed, waiting to be delivered. */
  private readonly placed: string[] = [];
  private readonly stores: StoreFoods[];

  constructor(private readonly o: TrafficOptions) {
    this.stores = o.storeIds.map((storeId) => ({ storeId, foodIds: o.foodIds }));
    this.added = Object.fromEntries(
      [DEFAULT_STORE_ID, ...o.storeIds].map((storeId) => [
        storeId,
        { packets: { confirmed: 0, unknown: 0 }, agents: { confirmed: 0, unknown: 0 } },
      ]),
    );
  }

  run(): Promise<unknown> {
    return Promise.all([...Array.from({ length: this.o.clients }, (_, n) => this.client(n)), this.deliveries(), this.topUps()]);
  }

  /** GET /orders/:id for the checker, as a client does (kept with the other exchanges). */
  async lookUp(orderId: string): Promise<{ status: number; body: { state?: string } }> {
    const x = await this.send({ route: 'GET /orders/:id', orderId, by: 'checker', gateway: 0 }, 'GET', `/orders/${orderId}`);
    return { status: x.status === 'no-answer' ? 0 : x.status, body: (x.body ?? {}) as { state?: string } };
  }

  private async client(n: number): Promise<void> {
    const dice = new Dice(this.o.seed, `client/${n}`);
    for (let i = 0; Date.now() < this.o.until; i++) {
      const keyed = dice.chance(0.9);
      const singleFood = dice.chance(SINGLE_FOOD);
      const plan = {
        cart: singleFood ? singleFoodCart(dice.pick(this.o.foodIds)) : drawCart(dice, this.stores),
        singleFood,
        // Without a key a second request is a second order: keyless clients send once.
        mode: keyed ? dice.pick<Mode>(['once', 'once', 'retry', 'race']) : 'once',
        gateway: dice.int(0, 1),
        retryThroughOther: dice.chance(0.5),
        lookAfterwards: dice.chance(0.2),
        reuseKey: keyed && dice.chance(KEY_REUSE),
        thinkMs: dice.int(10, 150),
      };
      await this.order(n, keyed ? `chaos-${this.o.seed}-${n}-${i}` : undefined, plan);
      await sleep(plan.thinkMs, undefined, { signal: this.o.signal });
    }
  }

  private async order(
    by: number,
    key: string | undefined,
    plan: {
      cart: Cart;
      singleFood: boolean;
      mode: Mode;
      gateway: number;
      retryThroughOther: boolean;
      lookAfterwards: boolean;
      reuseKey: boolean;
    },
  ): Promise<void> {
    const post = (gateway: number, cart = plan.cart, singleFood = plan.singleFood) =>
      this.send(
        { route: 'POST /orders', key, cart, by, gateway },
        'POST',
        '/orders',
        singleFood ? { foodId: cart.items[0].foodId } : cart,
        key ? { 'idempotency-key': key } : {},
      );
    const answers =
      plan.mode === 'race'
        ? await Promise.all([post(0), post(1)])
        : [
            await post(plan.gateway),
            ...(plan.mode === 'retry' ? [await post(plan.retryThroughOther ? 1 - plan.gateway : plan.gateway)] : []),
          ];
    for (let attempt = 1; key && !answers.some(tellsTheOrder) && attempt <= KEYED_TRIES; attempt++) {
      await sleep(200 * attempt, undefined, { signal: this.o.signal });
      answers.push(await post((plan.gateway + attempt) % 2));
    }
    const named = answers.find(tellsTheOrder);
    const orderId = named?.body?.orderId as string | undefined;
    if (!orderId) return;
    if (answers.some((x) => x.status === 201)) this.placed.push(orderId);
    // Told placed or not placed, the key has its order for good: the same key with another cart is refused.
    if (plan.reuseKey && answers.some((x) => tellsTheOrder(x) && x.status !== 202)) {
      await post(
        1 - plan.gateway,
        { ...plan.cart, items: plan.cart.items.map((line) => ({ ...line, quantity: line.quantity + 1 })) },
        false,
      );
    }
    const pending = answers.filter(tellsTheOrder).every((x) => x.status === 202);
    if (pending || plan.lookAfterwards) await this.follow(orderId, by, plan.gateway, pending);
  }

  /** Looks an order up once, or, told it is pending, until it settles (the look-up records a lost one). */
  private async follow(orderId: string, by: number, gateway: number, untilSettled: boolean): Promise<void> {
    const giveUpAt = (orderIdMintedAt(orderId) ?? Date.now()) + this.o.lostAfterMs + 5000;
    for (let n = 0; ; n++) {
      const x = await this.send({ route: 'GET /orders/:id', orderId, by, gateway: (gateway + n) % 2 }, 'GET', `/orders/${orderId}`);
      const state = x.body?.state as OrderState | undefined;
      if (x.status === 200 && state === OrderState.PLACED && untilSettled) this.placed.push(orderId);
      if (!untilSettled || (x.status === 200 && isSettled(state)) || Date.now() > giveUpAt) return;
      await sleep(500, undefined, { signal: this.o.signal });
    }
  }

  private async deliveries(): Promise<void> {
    const dice = new Dice(this.o.seed, 'deliveries');
    while (Date.now() < this.o.until) {
      await sleep(dice.int(100, 600), undefined, { signal: this.o.signal });
      const gateway = dice.int(0, 1);
      for (const orderId of this.placed.splice(0, dice.int(1, 6))) {
        const x = await this.send(
          { route: 'POST /orders/:id/delivered', orderId, by: 'admin', gateway },
          'POST',
          `/orders/${orderId}/delivered`,
          {},
        );
        // Not known to have gone through: ask again later (marking delivered is idempotent).
        if (x.status === 'no-answer' || x.status === 500 || x.status === 503) this.placed.push(orderId);
      }
    }
  }

  /** Packets and agents for each store, the default store's half the time through the single-store routes. */
  private async topUps(): Promise<void> {
    const dice = new Dice(this.o.seed, 'stock');
    while (Date.now() < this.o.until) {
      await sleep(dice.int(300, 1200), undefined, { signal: this.o.signal });
      const gateway = dice.int(0, 1);
      // The default store only serves the single-food orders: it is topped up less often.
      const storeId = dice.pick([DEFAULT_STORE_ID, ...this.o.storeIds, ...this.o.storeIds]);
      const singleStoreRoute = storeId === DEFAULT_STORE_ID && dice.chance(0.5);
      const packets = dice.chance(0.7);
      const foodId = dice.pick(this.o.foodIds);
      const count = packets ? dice.int(1, 10) : dice.int(1, 5);
      const admin = { by: 'admin' as const, gateway };
      const x = singleStoreRoute
        ? packets
          ? await this.send({ route: 'POST /foods/:id/packets', ...admin }, 'POST', `/foods/${foodId}/packets`, { count })
          : await this.send({ route: 'POST /agents', ...admin }, 'POST', '/agents', { count })
        : packets
          ? await this.send({ route: 'POST /stores/:id/packets', ...admin }, 'POST', `/stores/${storeId}/packets`, { foodId, count })
          : await this.send({ route: 'POST /stores/:id/agents', ...admin }, 'POST', `/stores/${storeId}/agents`, { count });
      // Never sent again: an addition has no key, so a retry could add twice.
      const tally = packets ? this.added[storeId].packets : this.added[storeId].agents;
      if (x.status === 201) tally.confirmed += count;
      else if (x.status === 'no-answer' || x.status === 500 || x.status === 503) tally.unknown += count;
    }
  }

  private async send(
    x: Omit<ChaosExchange, 'status' | 'sentAt'>,
    method: 'GET' | 'POST',
    path: string,
    payload?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ChaosExchange> {
    const sentAt = Date.now();
    // Longer than any wait of the gateway's own: a request still unanswered by then is lost.
    const timeout = AbortSignal.timeout(this.o.orderWaitMs + 5000);
    let exchange: ChaosExchange;
    try {
      const res = await fetch(this.o.gateways[x.gateway] + path, {
        method,
        headers: { 'content-type': 'application/json', 'x-api-key': this.o.adminKey, ...headers },
        body: payload === undefined ? undefined : JSON.stringify(payload),
        signal: this.o.signal ? AbortSignal.any([timeout, this.o.signal]) : timeout,
      });
      const text = await res.text();
      exchange = { ...x, status: res.status, body: parseBody(text), sentAt, answeredAt: Date.now() };
    } catch (err) {
      this.o.signal?.throwIfAborted();
      exchange = { ...x, status: 'no-answer', sentAt, answeredAt: Date.now(), error: describe(err) };
    }
    this.exchanges.push(exchange);
    return exchange;
  }
}

/** An answer that names the order: placed, not placed or pending with its id. */
export function tellsTheOrder(x: Exchange): boolean {
  return typeof x.body?.orderId === 'string' && x.status !== 500;
}

function parseBody(text: string): Record<string, unknown> {
  try {
    const body: unknown = JSON.parse(text);
    return typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : { text };
  } catch {
    return { text };
  }
}

function describe(err: unknown): string {
  const error = err as Error & { cause?: Error & { code?: string } };
  return [error.name, error.message, error.cause?.code ?? error.cause?.message].filter(Boolean).join(': ');
}
