import { RowDataPacket } from 'mysql2/promise';
import { TestSystem } from './harness';

export interface Answer {
  status: number | 'no-answer';
  orderId?: string;
  code?: string;
}

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
  try {
    const res = await fetch(`${url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ foodId }),
    });
    const body = (await res.json()) as { orderId?: string; code?: string };
    return { status: res.status, orderId: body.orderId, code: body.code };
  } catch {
    return { status: 'no-answer' };
  }
}

/**
 * I4, the truth to the user: 201 only for an order that ends PLACED, 409/503 only for one that ends
 * NOT_PLACED, 202 for one that settles either way on its own. Returns one line per broken promise.
 */
export async function answersViolations(t: TestSystem, answers: Answer[]): Promise<string[]> {
  const rows = await t.query<RowDataPacket>(`SELECT id, state FROM ${t.env.ORDER_DB_NAME}.orders`);
  const stateOf = new Map(rows.map((r) => [r.id as string, r.state as string]));
  // A client told "pending" asks again, as the answer tells it to; for a command lost with a broker
  // crash, that look-up is what settles the order (REQUEST_LOST) once the command can no longer start.
  const unknown = answers.filter((a) => a.status === 202 && a.orderId && !stateOf.has(a.orderId));
  const giveUpAt = Date.now() + Number(t.env.ORDER_LOST_AFTER_MS) + 5000;
  for (const answer of unknown) {
    for (;;) {
      const { status, body } = await t.get(`/orders/${answer.orderId}`);
      if (status === 200 && ['PLACED', 'NOT_PLACED'].includes(body.state)) {
        stateOf.set(answer.orderId!, body.state);
        break;
      }
      if (Date.now() > giveUpAt) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  const violations: string[] = [];
  for (const answer of answers) {
    // No answer (the gateway died), or 503 for a command that never left the gateway: no order to check.
    if (answer.status === 'no-answer' || (answer.status === 503 && !answer.orderId)) continue;
    const state = answer.orderId ? stateOf.get(answer.orderId) : undefined;
    const ok =
      (answer.status === 201 && (state === 'PLACED' || state === 'DELIVERED')) ||
      ((answer.status === 409 || answer.status === 503) && state === 'NOT_PLACED') ||
      (answer.status === 202 && (state === 'PLACED' || state === 'NOT_PLACED'));
    if (!ok)
      violations.push(`I4: answered ${answer.status} ${answer.code ?? ''} for order ${answer.orderId} that is ${state ?? 'unknown'}`);
  }
  return violations;
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
