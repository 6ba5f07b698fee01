import { DeliveryPattern, ErrorCode, OrderPattern, OrderView, Queue, StorePattern } from '@app/contracts';
import { call } from '@app/platform';
import { RowDataPacket } from 'mysql2/promise';
import { setTimeout as sleep } from 'node:timers/promises';
import { killDatabaseSessions, restartRabbitmq } from '../scripts/faults';
import { TestSystem } from './support/harness';
import { Answer, answersViolations, runLoad, summarize } from './support/load';
import { v7 } from 'uuid';

/**
 * Fault injection on the real system: for each fault, a few hundred orders against limited stock
 * and agents, the fault in the middle, recovery, then the invariants (I1-I6) on the databases and
 * the HTTP answers every client got. Every case prints its figures.
 */

jest.setTimeout(180_000);

const TTL_MS = 5000;
const t = new TestSystem('faults', 3902, {
  RESERVATION_TTL_MS: String(TTL_MS),
  ORDER_WAIT_MS: '6000',
  ORDER_LOST_AFTER_MS: '8000',
  RPC_TIMEOUT_MS: '1000',
  LEASE_MS: '7000',
  PHASE2_ATTEMPTS: '4',
  RETRY_BASE_MS: '100',
  CONTENTION_WAIT_MS: '3000',
});

const ORDERS = 240;
const PACKETS = 100;
const AGENTS = 80;
const CONCURRENCY = 24;

beforeAll(() => t.start());
afterAll(() => t.stop());

async function freeAllAgents(): Promise<void> {
  const placed = await t.query<RowDataPacket>(`SELECT id FROM ${t.env.ORDER_DB_NAME}.orders WHERE state = 'PLACED'`);
  for (const { id } of placed) await t.post(`/orders/${id}/delivered`, {});
  const { agents } = (await t.get('/agents')).body;
  if (agents.total < AGENTS) await t.post('/agents', { count: AGENTS - agents.total });
  expect((await t.get('/agents')).body.agents.free).toBe(AGENTS);
}

/** Runs one fault case end to end and asserts every invariant; returns the figures it printed. */
async function faultCase(name: string, fault: () => Promise<void>, options: { faultAfter?: number; urls?: string[] } = {}) {
  await freeAllAgents();
  const before = await t.check();
  const food = await t.post('/foods', { name: `Fault ${name}`, packets: PACKETS });
  const started = Date.now();

  const { answers } = await runLoad(t, { foodId: food.body.id, orders: ORDERS, concurrency: CONCURRENCY, fault, ...options });

  // I6: every order settles within the TTL plus a few seconds of the last fault.
  const report = await t.settled(TTL_MS + 15_000);
  const i4 = await answersViolations(t, answers);
  const figures = { case: name, ...summarize(answers), unsettled: report.pending, violations: report.violations.length + i4.length };
  console.log(`${JSON.stringify(figures)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  expect(report.violations).toEqual([]);
  expect(i4).toEqual([]);
  expect(report.pending).toBe(0);
  expect(figures.other).toBe(0);
  // I5: ordering never creates or destroys a packet or an agent.
  expect(report.packets.total).toBe(before.packets.total + PACKETS);
  expect(report.agents.total).toBe(before.agents.total);
  // Limited stock: never more placed than packets or agents, and the placed ones are real.
  const placed = answers.filter((a: Answer) => a.status === 201).length;
  expect(placed).toBeLessThanOrEqual(Math.min(PACKETS, AGENTS));
  return figures;
}

async function restartOrderWith(env: Record<string, string>): Promise<void> {
  await t.system.stop('order');
  t.system.spawn('order', 1, env);
  await t.system.waitHealthy();
}

describe('the coordinator is killed (kill -9) at the worst moments', () => {
  for (const point of ['after-reserve', 'after-decision', 'after-first-assign']) {
    it(`recovers every order after a crash ${point}`, async () => {
      await restartOrderWith({ FAULT_POINT: point, FAULT_ACTION: 'crash' });
      await faultCase(`crash ${point}`, async () => {
        // The first order to reach the point kills the process; a plain instance takes over.
        await t.until(async () => !t.system.running('order'), 20_000, `the crash ${point}`);
        t.system.spawn('order');
      });
    });
  }
});

describe('a participant is killed (kill -9) mid-load and restarted', () => {
  for (const service of ['store', 'delivery'] as const) {
    it(`keeps every promise when ${service} dies`, async () => {
      await faultCase(
        `kill ${service}`,
        async () => {
          await t.system.stop(service, 'SIGKILL');
          await sleep(1500);
          t.system.spawn(service);
        },
        { faultAfter: ORDERS / 4 },
      );
    });
  }
});

describe('infrastructure faults', () => {
  it('keeps every promise when RabbitMQ restarts mid-load', async () => {
    await faultCase('restart rabbitmq', () => restartRabbitmq(), { faultAfter: ORDERS / 4 });
    await t.system.waitHealthy();
  });

  it('keeps every promise when every MySQL connection of the services is killed mid-load', async () => {
    await faultCase(
      'kill mysql connections',
      async () => {
        const killed = await killDatabaseSessions(t.databases, [t.env.STORE_DB_NAME, t.env.DELIVERY_DB_NAME, t.env.ORDER_DB_NAME]);
        console.log(`killed ${killed} MySQL sessions`);
      },
      { faultAfter: ORDERS / 4 },
    );
  });
});

describe('several instances', () => {
  afterAll(async () => {
    for (const name of ['gateway#2', 'order#2', 'store#2', 'delivery#2']) await t.system.stop(name);
  });

  it('keeps every promise with two of every app, one of each killed mid-load', async () => {
    for (const service of ['store', 'delivery', 'order', 'gateway'] as const) t.system.spawn(service, 2);
    const second = `http://127.0.0.1:${Number(t.env.PORT) + 1}`;
    await t.until(async () => (await fetch(`${second}/health`).catch(() => undefined))?.ok, 30_000, 'the second gateway');

    await faultCase(
      'two instances, one of each killed',
      async () => {
        await Promise.all(['gateway#2', 'order#2', 'store#2', 'delivery#2'].map((n) => t.system.stop(n, 'SIGKILL')));
      },
      { faultAfter: ORDERS / 3, urls: [t.url, second] },
    );
  });
});

describe('duplicated and reordered messages', () => {
  it('answers a repeated reserve, assign and release as the first, and refuses a reserve after its release', async () => {
    const food = await t.post('/foods', { name: 'Duplicates', packets: 3 });
    const store = t.client(Queue.STORE);
    const delivery = t.client(Queue.DELIVERY);
    const orderId = v7();
    const send = <T>(client: typeof store, pattern: string, data: object) => call<T>(client, pattern, data, 3000);

    const reserved = await Promise.all([
      send<{ packetId: number }>(store, StorePattern.RESERVE_PACKET, { orderId, foodId: food.body.id }),
      send<{ packetId: number }>(store, StorePattern.RESERVE_PACKET, { orderId, foodId: food.body.id }),
    ]);
    expect(reserved[0].packetId).toBe(reserved[1].packetId);
    const { packetId } = reserved[0];
    const assigned = await Promise.all([
      send<{ packetId: number }>(store, StorePattern.ASSIGN_PACKET, { orderId, packetId }),
      send<{ packetId: number }>(store, StorePattern.ASSIGN_PACKET, { orderId, packetId }),
    ]);
    expect(assigned.map((a) => a.packetId)).toEqual([reserved[0].packetId, reserved[0].packetId]);
    const counts = (await t.get('/foods')).body.find((f: { id: number }) => f.id === food.body.id).packets;
    expect(counts).toEqual({ free: 2, reserved: 0, assigned: 1, total: 3 });
    const released = [
      await send<{ freed: number }>(store, StorePattern.RELEASE_PACKET, { orderId }),
      await send<{ freed: number }>(store, StorePattern.RELEASE_PACKET, { orderId }),
    ];
    expect(released.map((r) => r.freed)).toEqual([1, 0]);

    // Empty rollback, then the hanging reserve it must prevent, on both participants.
    const late = v7();
    expect((await send<{ freed: number }>(store, StorePattern.RELEASE_PACKET, { orderId: late })).freed).toBe(0);
    await expect(send(store, StorePattern.RESERVE_PACKET, { orderId: late, foodId: food.body.id })).rejects.toMatchObject({
      code: ErrorCode.ORDER_RELEASED,
    });
    expect((await send<{ freed: number }>(delivery, DeliveryPattern.RELEASE_AGENT, { orderId: late })).freed).toBe(0);
    await expect(send(delivery, DeliveryPattern.RESERVE_AGENT, { orderId: late, attempt: 1 })).rejects.toMatchObject({
      code: ErrorCode.ORDER_RELEASED,
    });
    const held = await t.query(`SELECT id FROM ${t.env.STORE_DB_NAME}.packet WHERE order_id IN (?, ?)`, [orderId, late]);
    expect(held).toEqual([]);
  });

  it('runs a duplicated place-order command once', async () => {
    await freeAllAgents();
    const food = await t.post('/foods', { name: 'Duplicate command', packets: 5 });
    const command = { orderId: v7(), foodId: food.body.id, deadline: Date.now() + 10_000 };
    const order = t.client(Queue.ORDER);

    const replies = await Promise.all([
      call<OrderView>(order, OrderPattern.PLACE_ORDER, command, 8000),
      call<OrderView>(order, OrderPattern.PLACE_ORDER, command, 8000),
    ]);

    expect(replies.map((r) => r.orderId)).toEqual([command.orderId, command.orderId]);
    const settled = await t.until(async () => {
      const view = (await t.get(`/orders/${command.orderId}`)).body;
      return view.state === 'PLACED' && view;
    });
    const rows = await t.query(`SELECT id FROM ${t.env.STORE_DB_NAME}.packet WHERE state = 'ASSIGNED' AND food_id = ?`, [food.body.id]);
    expect(rows).toEqual([{ id: settled.packetId }]);
    const report = await t.settled();
    expect(report.violations).toEqual([]);
  });
});
