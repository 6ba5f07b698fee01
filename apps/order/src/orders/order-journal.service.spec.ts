import { NotPlacedReason, OrderState } from '@app/contracts';
import { randomUUID } from 'node:crypto';
import { v7 } from 'uuid';
import { startService } from '../../../../libs/database/src/testing/service-under-test';
import { OrderServiceModule } from '../order-service.module';
import { OrderJournal } from './order-journal.service';

/**
 * The coordinator's log against the real MariaDB, with calls made side by side so that they meet in
 * batches (one multi-row insert, one compare-and-set statement, one read): each order's answer is
 * what it would have been alone.
 */

let service: Awaited<ReturnType<typeof startService>>;
let journal: OrderJournal;

beforeAll(async () => {
  const ns = process.env.TEST_NS ? `t_${process.env.TEST_NS}_` : 't_';
  service = await startService(OrderServiceModule, 'ORDER_DB_NAME', 'unit_journal', {
    QUEUE_PREFIX: `${ns}unit_journal_`,
    ORDER_METRICS_PORT: '0',
    RECOVERY_INTERVAL_MS: '600000',
    PRUNE_INTERVAL_MS: '86400000',
  });
  journal = service.app.get(OrderJournal);
});
afterAll(() => service?.close());

const cart = (foodId: number) => ({ storeId: 1, items: [{ foodId, quantity: 1 }] });

describe('OrderJournal in batches', () => {
  it('begins many orders at once, each owned by its own lease; a repeated id or idempotency key is not ours', async () => {
    const ids = Array.from({ length: 20 }, () => v7());
    const key = `key-${randomUUID()}`;
    const leases = await Promise.all(
      ids.map((id, i) => journal.begin(id, cart(i + 1), OrderState.RESERVING, null, i === 3 ? key : undefined)),
    );
    expect(leases.every((lease, i) => lease?.orderId === ids[i])).toBe(true);
    expect(new Set(leases.map((lease) => lease!.owner)).size).toBe(ids.length);

    // In one batch with new orders: the same ids again, and another order with a key taken.
    const fresh = Array.from({ length: 5 }, () => v7());
    const again = await Promise.all([
      ...ids.slice(0, 5).map((id) => journal.begin(id, cart(1), OrderState.RESERVING)),
      journal.begin(v7(), cart(1), OrderState.RESERVING, null, key),
      ...fresh.map((id) => journal.begin(id, cart(2), OrderState.NOT_PLACED, NotPlacedReason.REQUEST_EXPIRED)),
    ]);
    expect(again.slice(0, 6)).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
    expect(again.slice(6).map((lease) => lease?.orderId)).toEqual(fresh);
    const owners = await Promise.all(ids.map((id) => journal.find(id)));
    expect(owners.map((order) => order?.leaseOwner)).toEqual(leases.map((lease) => lease!.owner));
    expect(await journal.find(fresh[0])).toMatchObject({ state: OrderState.NOT_PLACED, reason: NotPlacedReason.REQUEST_EXPIRED });
  });

  it('moves many orders in one statement, each with its own changes, and only where its lease still owns it', async () => {
    const ids = Array.from({ length: 12 }, () => v7());
    const leases = await Promise.all(ids.map((id, i) => journal.begin(id, cart(i + 1), OrderState.RESERVING)));
    const stolen = { orderId: ids[5], owner: randomUUID() };
    const moved = await Promise.all(
      leases.map((lease, i) =>
        i === 5
          ? journal.transition(stolen, OrderState.RESERVING, OrderState.COMMITTING, { agentId: 99 })
          : i % 2 === 0
            ? journal.transition(lease!, OrderState.RESERVING, OrderState.COMMITTING, {
                items: [{ foodId: i + 1, quantity: 1, packetIds: [1000 + i] }],
                agentId: 100 + i,
              })
            : journal.transition(lease!, OrderState.RESERVING, OrderState.ABORTING, {
                reason: NotPlacedReason.OUT_OF_STOCK,
                agentId: null,
              }),
      ),
    );
    expect(moved.map((order) => order?.id)).toEqual(ids.map((id, i) => (i !== 5 ? id : undefined)));
    // Each answered with the order as its move left it, read in the same round trip.
    expect(moved[2]).toMatchObject({ state: OrderState.COMMITTING, agentId: 102, items: [{ foodId: 3, quantity: 1, packetIds: [1002] }] });
    expect(moved[3]).toMatchObject({ state: OrderState.ABORTING, reason: NotPlacedReason.OUT_OF_STOCK, leaseOwner: leases[3]!.owner });
    const orders = await Promise.all(ids.map((id) => journal.find(id)));
    orders.forEach((order, i) => {
      if (i === 5) expect(order).toMatchObject({ state: OrderState.RESERVING, agentId: null, reason: null });
      else if (i % 2 === 0)
        expect(order).toMatchObject({
          state: OrderState.COMMITTING,
          agentId: 100 + i,
          reason: null,
          items: [{ foodId: i + 1, quantity: 1, packetIds: [1000 + i] }],
        });
      else expect(order).toMatchObject({ state: OrderState.ABORTING, agentId: null, reason: NotPlacedReason.OUT_OF_STOCK });
    });
    // Each move is logged once, by the trigger, in the same statement.
    const [{ n }] = await service.rows<{ n: number }>(`SELECT COUNT(*) AS n FROM order_log WHERE order_id IN (?)`, [ids]);
    expect(Number(n)).toBe(ids.length * 2 - 1);
  });

  it('of two moves of one order in the same batch, only the one its lease owns happens', async () => {
    const [busy, ...others] = Array.from({ length: 6 }, () => v7());
    const lease = (await journal.begin(busy, cart(1), OrderState.RESERVING))!;
    const otherLeases = await Promise.all(others.map((id) => journal.begin(id, cart(1), OrderState.RESERVING)));
    // The moves leave together, the busy order's two in one batch.
    const moves = await Promise.all([
      ...otherLeases.map((l) => journal.transition(l!, OrderState.RESERVING, OrderState.COMMITTING, { agentId: 7 })),
      journal.transition({ orderId: busy, owner: randomUUID() }, OrderState.RESERVING, OrderState.ABORTING, {
        reason: NotPlacedReason.COORDINATOR_RECOVERY,
      }),
      journal.transition(lease, OrderState.RESERVING, OrderState.COMMITTING, { agentId: 8 }),
    ]);
    expect(moves.map((order) => order?.state)).toEqual([...others.map(() => OrderState.COMMITTING), undefined, OrderState.COMMITTING]);
    expect(await journal.find(busy)).toMatchObject({ state: OrderState.COMMITTING, agentId: 8, reason: null });
  });

  it('answers a move its own lease made already (a retry that meets its committed write) with the order, and none for another lease', async () => {
    const id = v7();
    const lease = (await journal.begin(id, cart(1), OrderState.RESERVING))!;
    await journal.transition(lease, OrderState.RESERVING, OrderState.COMMITTING, { agentId: 5 });

    const again = await journal.transition(lease, OrderState.RESERVING, OrderState.COMMITTING, { agentId: 5 });
    const other = await journal.transition({ orderId: id, owner: randomUUID() }, OrderState.RESERVING, OrderState.COMMITTING);

    expect(again).toMatchObject({ id, state: OrderState.COMMITTING, agentId: 5, leaseOwner: lease.owner });
    expect(other).toBeUndefined();
  });

  it('finds many orders in one read, and null for an unknown one', async () => {
    const ids = Array.from({ length: 8 }, () => v7());
    await Promise.all(ids.map((id, i) => journal.begin(id, cart(i + 1), OrderState.RESERVING)));
    const unknown = v7();
    const found = await Promise.all([...ids, unknown].map((id) => journal.find(id)));
    expect(found.map((order) => order?.id ?? null)).toEqual([...ids, null]);
    expect(found[3]?.items).toEqual([{ foodId: 4, quantity: 1, packetIds: [] }]);
  });
});
