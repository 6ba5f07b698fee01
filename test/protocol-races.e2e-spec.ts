import { DEFAULT_STORE_ID, DeliveryPattern, OrderPattern, PlaceOrderCommand, Queue, StorePattern } from '@app/contracts';
import { RowDataPacket } from 'mysql2/promise';
import { readFileSync } from 'node:fs';
import { TestSystem } from './support/harness';
import { cartOfOne } from './support/participants';
import { RawBroker } from './support/raw-broker';
import { v7 } from 'uuid';

/**
 * Races between copies of one message, played on the real system: the same order.place published
 * twice while the first driver is held in phase 1, and a late copy of a yield after the order
 * reserved again and decided. Fault points hold the coordinator at the exact step.
 */

jest.setTimeout(60_000);

// Generous timeouts: the races are staged by fault points and waits on the database, so a slow
// machine must not turn a reserve into a timeout (and the order into an abort) before the race.
const t = new TestSystem('races', 3909, {
  // Each message a service handled is a debug line: the races are read from them.
  LOG_LEVEL: 'debug',
  FAULT_ACTION: 'pause',
  FAULT_PAUSE_MS: '2500',
  RPC_TIMEOUT_MS: '5000',
  CONTENTION_WAIT_MS: '10000',
  LEASE_MS: '30000',
  ORDER_WAIT_MS: '30000',
  ORDER_LOST_AFTER_MS: '40000',
});
let broker: RawBroker;

beforeAll(async () => {
  await t.start();
  broker = await RawBroker.open(t);
});
afterAll(async () => {
  await broker?.close();
  await t.stop();
});

async function restartOrderWith(env: Record<string, string>): Promise<void> {
  await t.system.stop('order');
  t.system.spawn('order', 1, env);
  await t.system.waitHealthy();
}

/** The log lines of one service that name `orderId` and `pattern` (one per message it handled). */
function handled(service: string, pattern: string, orderId: string): string[] {
  return readFileSync(t.logFile, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith(`[${service}] `) && line.includes(`"pattern":"${pattern}"`) && line.includes(orderId));
}

async function orderRow(orderId: string): Promise<RowDataPacket | undefined> {
  const [row] = await t.query(`SELECT state, agent_id FROM ${t.env.ORDER_DB_NAME}.orders WHERE id = ?`, [orderId]);
  return row;
}

describe('copies of one message', () => {
  it('places an order whose late yield copy arrives after it reserved the same agent again and decided', async () => {
    await restartOrderWith({ FAULT_POINT: 'after-decision' });
    const food = await t.post('/foods', { name: 'Late yield', packets: 1 });
    expect((await t.post('/agents', { count: 1 })).status).toBe(201);
    const [{ id: onlyAgent }] = await t.query(`SELECT id FROM ${t.env.DELIVERY_DB_NAME}.agent`);
    // Another order holds the only packet, so the order's first try holds the agent and must give it back.
    const other = v7();
    broker.request(Queue.STORE, StorePattern.RESERVE_CART, cartOfOne(other, food.body.id));

    await t.until(async () => (await t.query(`SELECT id FROM ${t.env.STORE_DB_NAME}.packet WHERE order_id = ?`, [other])).length > 0);
    const answer = t.post('/orders', { foodId: food.body.id });
    const orderId = await t.until(
      async () =>
        (
          await t.query(`SELECT id FROM ${t.env.ORDER_DB_NAME}.orders WHERE JSON_CONTAINS(items, JSON_OBJECT('foodId', ?))`, [food.body.id])
        )[0]?.id as string,
    );
    await t.until(async () => handled('delivery', DeliveryPattern.YIELD_AGENT, orderId).length > 0, 10_000, 'the first yield');
    broker.request(Queue.STORE, StorePattern.RELEASE_PACKETS, { orderId: other });
    // Reserved again (the only agent, so the same one), decided, and held at the fault point.
    await t.until(async () => (await orderRow(orderId))?.state === 'COMMITTING', 10_000, 'the decision');
    const copy = broker.request(Queue.DELIVERY, DeliveryPattern.YIELD_AGENT, { orderId, agentId: Number(onlyAgent), attempt: 1 });
    await t.until(async () => broker.reply(copy), 5_000, 'the copy of the yield to be answered');

    const { status, body } = await answer;
    expect({ status, state: body.state, agentId: body.agentId }).toEqual({ status: 201, state: 'PLACED', agentId: Number(onlyAgent) });
    expect((await t.check()).violations).toEqual([]);
  });

  it('runs phase 1 once when the same order.place is published twice while the first driver is in phase 1', async () => {
    await restartOrderWith({ FAULT_POINT: 'after-reserve' });
    const food = await t.post('/foods', { name: 'Twice published', packets: 5 });
    const side = await t.post('/foods', { name: 'Twice published chutney', packets: 5 });
    await t.post('/agents', { count: 3 });
    const command: PlaceOrderCommand = {
      orderId: v7(),
      storeId: DEFAULT_STORE_ID,
      items: [
        { foodId: food.body.id, quantity: 2 },
        { foodId: side.body.id, quantity: 1 },
      ],
      deadline: Date.now() + 20_000,
    };

    const first = broker.request(Queue.ORDER, OrderPattern.PLACE_ORDER, command);
    await t.until(async () => (await orderRow(command.orderId))?.state === 'RESERVING', 10_000, 'the first driver in phase 1');
    const second = broker.request(Queue.ORDER, OrderPattern.PLACE_ORDER, command);
    await t.until(async () => broker.reply(first) && broker.reply(second), 30_000, 'both answers');

    const answers = [broker.reply(first), broker.reply(second)] as { response?: object }[];
    expect(answers[0].response).toMatchObject({
      orderId: command.orderId,
      state: 'PLACED',
      storeId: DEFAULT_STORE_ID,
      items: [
        { foodId: food.body.id, quantity: 2, packetIds: [expect.any(Number), expect.any(Number)] },
        { foodId: side.body.id, quantity: 1, packetIds: [expect.any(Number)] },
      ],
    });
    expect(answers[1].response).toEqual(answers[0].response);
    // One driver: one reserve of each side reached the participants.
    expect(handled('store', StorePattern.RESERVE_CARTS, command.orderId)).toHaveLength(1);
    expect(handled('delivery', DeliveryPattern.RESERVE_AGENTS, command.orderId)).toHaveLength(1);
    const row = await orderRow(command.orderId);
    const [agent] = await t.query(`SELECT id FROM ${t.env.DELIVERY_DB_NAME}.agent WHERE order_id = ?`, [command.orderId]);
    expect(Number(agent.id)).toBe(Number(row!.agent_id));
    expect((await t.check()).violations).toEqual([]);
  });
});
