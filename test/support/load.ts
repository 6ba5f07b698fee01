import { checkAnswers, Exchange } from '../../scripts/answers';
import { TestSystem } from './harness';

/** The answer to one POST /orders. */
export type Answer = Exchange;

export interface LoadOptions {
  foodId: number;
  orders: number;
  concurrency: number;
  /** Gateways to spread the orders over (round robin); the suite's own by default. */
  urls?: string[];
  /** Called once when this many answers have come back: the moment to inject a fault. */
  faultAfter?: number;
  fault?: () => Promise<void>;
}

/** Drives `orders` POST /orders with `concurrency` clients; every answer is kept for the I4 check. */
export async function runLoad(t: TestSystem, options: LoadOptions): Promise<{ answers: Answer[]; faultDone: Promise<void> }> {
  const urls = options.urls ?? [t.url];
  const answers: Answer[] = [];
  let next = 0;
  let faultDone: Promise<void> = Promise.resolve();
  const client = async () => {
    while (next < options.orders) {
      const n = next++;
      answers.push(await placeOrder(urls[n % urls.length], options.foodId));
      if (options.fault && answers.length === (options.faultAfter ?? 0)) faultDone = options.fault();
    }
  };
  if (options.fault && !options.faultAfter) faultDone = options.fault();
  await Promise.all(Array.from({ length: options.concurrency }, client));
  await faultDone;
  return { answers, faultDone };
}

async function placeOrder(url: string, foodId: number): Promise<Answer> {
  const sentAt = Date.now();
  try {
    const res = await fetch(`${url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ foodId }),
    });
    return {
      route: 'POST /orders',
      status: res.status,
      body: (await res.json()) as Record<string, unknown>,
      sentAt,
      answeredAt: Date.now(),
    };
  } catch {
    return { route: 'POST /orders', status: 'no-answer', sentAt };
  }
}

/**
 * I4, the truth to the user (scripts/answers.ts): 201 only for an order that ends PLACED, 409/503
 * only for one that ends NOT_PLACED, 202 for one that settles either way on its own. Returns one
 * line per broken promise.
 */
export async function answersViolations(t: TestSystem, answers: Answer[]): Promise<string[]> {
  const violations = await checkAnswers(answers, {
    database: t.databases,
    lostAfterMs: Number(t.env.ORDER_LOST_AFTER_MS),
    lookUp: (orderId) => t.get(`/orders/${orderId}`),
  });
  return violations.map((v) => `${v.invariant}: ${v.message}`);
}

export function summarize(answers: Answer[]) {
  const count = (pred: (a: Answer) => boolean) => answers.filter(pred).length;
  return {
    orders: answers.length,
    placed: count((a) => a.status === 201),
    notPlaced: count((a) => a.status === 409 || a.status === 503),
    pending: count((a) => a.status === 202),
    noAnswer: count((a) => a.status === 'no-answer'),
    other: count((a) => ![201, 202, 409, 503, 'no-answer'].includes(a.status)),
  };
}
