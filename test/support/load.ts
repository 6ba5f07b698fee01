import { Cart, checkAnswers, Exchange } from '../../scripts/answers';
import { Dice } from '../../scripts/chaos/dice';
import { drawCart, StoreFoods } from '../../scripts/chaos/traffic';
import { TestSystem } from './harness';

/** The answer to one POST /orders. */
export type Answer = Exchange;

export interface LoadOptions {
  /** The cart of the n-th order. */
  cart: (n: number) => Cart;
  orders: number;
  concurrency: number;
  /** Gateways to spread the orders over (round robin); the suite's own by default. */
  urls?: string[];
  /** Called once when this many answers have come back: the moment to inject a fault. */
  faultAfter?: number;
  fault?: () => Promise<void>;
}

/**
 * Carts of 1 to 3 lines of 1 or 2 packets each, each of a store drawn at random (drawCart, as the
 * chaos run's clients draw theirs). The n-th cart depends on `seed` and n only, so a failing run
 * can be replayed; and not on n's parity, which picks the gateway when there are two.
 */
export function cartsAcross(stores: StoreFoods[], seed: number): (n: number) => Cart {
  return (n) => drawCart(new Dice(seed, `cart/${n}`), stores);
}

/** Drives `orders` POST /orders with `concurrency` clients; every answer is kept for the I4 check. */
export async function runLoad(t: TestSystem, options: LoadOptions): Promise<{ answers: Answer[] }> {
  const urls = options.urls ?? [t.url];
  const answers: Answer[] = [];
  let next = 0;
  let faultDone: Promise<void> = Promise.resolve();
  // A fault that fails ends the load: no new order is sent, those in flight are answered, and only
  // then does runLoad throw, so no client of a failed case goes on ordering into the next one.
  const inject = (fault: () => Promise<void>) => {
    // Through then(): a fault that throws before its first await is caught the same way.
    faultDone = Promise.resolve()
      .then(fault)
      .catch((err: unknown) => {
        next = options.orders;
        throw err;
      });
    faultDone.catch(() => undefined);
  };
  const client = async () => {
    while (next < options.orders) {
      const n = next++;
      answers.push(await placeOrder(urls[n % urls.length], options.cart(n)));
      if (options.fault && answers.length === (options.faultAfter ?? 0)) inject(options.fault);
    }
  };
  if (options.fault && !options.faultAfter) inject(options.fault);
  await Promise.all(Array.from({ length: options.concurrency }, client));
  await faultDone;
  return { answers };
}

async function placeOrder(url: string, cart: Cart): Promise<Answer> {
  const sentAt = Date.now();
  try {
    const res = await fetch(`${url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(cart),
    });
    return {
      route: 'POST /orders',
      cart,
      status: res.status,
      body: (await res.json()) as Record<string, unknown>,
      sentAt,
      answeredAt: Date.now(),
    };
  } catch {
    return { route: 'POST /orders', cart, status: 'no-answer', sentAt };
  }
}

/**
 * I4, the truth to the user (scripts/answers.ts): 201 only for an order that ends PLACED, with its
 * store, packets and agent; 409/503 only for one that ends NOT_PLACED, for the reason and shortages
 * it records; 202 for one that settles either way on its own. Returns one line per broken promise.
 */
export async function answersViolations(t: TestSystem, answers: Answer[]): Promise<string[]> {
  const violations = await checkAnswers(answers, {
    database: t.databases,
    lostAfterMs: Number(t.env.ORDER_LOST_AFTER_MS),
    lookUp: (orderId) => t.get(`/orders/${orderId}`),
  });
  return violations.map((v) => `${v.invariant}: ${v.message}`);
}

/** What the clients were told, in all and per dark store. */
export function summarize(answers: Answer[]) {
  const tally = (of: Answer[]) => {
    const count = (pred: (a: Answer) => boolean) => of.filter(pred).length;
    return {
      orders: of.length,
      placed: count((a) => a.status === 201),
      notPlaced: count((a) => a.status === 409 || a.status === 503),
      pending: count((a) => a.status === 202),
      noAnswer: count((a) => a.status === 'no-answer'),
      other: count((a) => ![201, 202, 409, 503, 'no-answer'].includes(a.status)),
    };
  };
  const storeIds = [...new Set(answers.map((a) => a.cart!.storeId))].sort((a, b) => a - b);
  return {
    ...tally(answers),
    byStore: Object.fromEntries(storeIds.map((storeId) => [storeId, tally(answers.filter((a) => a.cart!.storeId === storeId))])),
  };
}
