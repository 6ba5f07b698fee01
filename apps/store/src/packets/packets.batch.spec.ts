import { CartReservation, ContractError, DEFAULT_STORE_ID, ErrorCode, Outcome, ReserveCartDto, StorePattern } from '@app/contracts';
import { randomUUID } from 'node:crypto';
import { v7 } from 'uuid';
import { ordersCommitted } from '../../../../libs/database/src/testing/batch-sizes';
import { watchLockConflicts } from '../../../../libs/database/src/testing/lock-conflicts';
import { countRoundTrips } from '../../../../libs/database/src/testing/round-trips';
import { startService } from '../../../../libs/database/src/testing/service-under-test';
import { FoodsService } from '../foods/foods.service';
import { StoresService } from '../stores/stores.service';
import { StoreModule } from '../store.module';
import { PacketsService } from './packets.service';

/**
 * Group commit at the store against the real MariaDB: many orders' reserves, assigns and releases
 * in one transaction each, every order answered on its own, as if its requests ran one by one.
 */

const RETENTION_MS = 3_600_000;
let service: Awaited<ReturnType<typeof startService>>;
let packets: PacketsService;

beforeAll(async () => {
  service = await startService(StoreModule, 'STORE_DB_NAME', 'unit_store_batch', {
    RESERVATION_TTL_MS: '60000',
    SWEEP_INTERVAL_MS: '600000',
    RETENTION_MS: String(RETENTION_MS),
    PRUNE_INTERVAL_MS: '86400000',
    STORE_METRICS_PORT: '0',
  });
  packets = service.app.get(PacketsService);
});
afterAll(() => service?.close());

/** A food of the catalogue with `count` packets in the default store. */
async function food(count: number): Promise<number> {
  return (await service.app.get(FoodsService).create(`food ${randomUUID()}`, count, randomUUID())).id;
}

/** A dark store with `stock` packets of each food named. */
async function store(stock: Record<number, number>): Promise<number> {
  const { id } = await service.app.get(StoresService).create(`store ${randomUUID()}`, randomUUID());
  for (const [foodId, count] of Object.entries(stock))
    await service.app.get(StoresService).addPackets(id, Number(foodId), count, randomUUID());
  return id;
}

const cart = (storeId: number, lines: [foodId: number, quantity: number][]): ReserveCartDto => ({
  orderId: v7(),
  storeId,
  items: lines.map(([foodId, quantity]) => ({ foodId, quantity })),
});
const ok = <T>(outcome: Outcome<T>): T => {
  if ('error' in outcome) throw new Error(`expected a reply, got ${outcome.error.code}: ${outcome.error.message}`);
  return outcome.ok;
};
const error = <T>(outcome: Outcome<T>): ContractError | undefined => ('error' in outcome ? outcome.error : undefined);
const packetIds = (reservation: CartReservation) => reservation.items.flatMap((line) => line.packetIds);

const held = (orderId: string) =>
  service.rows<{ id: number; store_id: number; food_id: number; state: string }>(
    `SELECT id, store_id, food_id, state FROM packet WHERE order_id = ? ORDER BY id`,
    [orderId],
  );
const barrier = (orderId: string) => service.rows(`SELECT released FROM packet_barrier WHERE order_id = ?`, [orderId]);
const counted = async (storeId: number, foodId: number) =>
  Number(
    (await service.rows<{ assigned: string }>(`SELECT assigned FROM packet_count WHERE store_id = ? AND food_id = ?`, [storeId, foodId]))[0]
      .assigned,
  );

describe('PacketsService batches', () => {
  it('holds the carts of a batch mixing stores, foods and cart sizes, each from its own store, in one transaction', async () => {
    const [dosa, idli] = [await food(3), await food(2)];
    const other = await store({ [dosa]: 2, [idli]: 4 });
    const carts = [
      cart(DEFAULT_STORE_ID, [
        [idli, 1],
        [dosa, 2],
      ]),
      cart(other, [[idli, 3]]),
      cart(DEFAULT_STORE_ID, [[dosa, 1]]),
      cart(other, [
        [dosa, 2],
        [idli, 1],
      ]),
      cart(DEFAULT_STORE_ID, [[idli, 1]]),
    ];

    const before = await ordersCommitted(StorePattern.RESERVE_CARTS);

    const outcomes = (await packets.reserveCarts(carts)).map(ok);

    expect(await ordersCommitted(StorePattern.RESERVE_CARTS)).toBe(before + carts.length);
    expect(outcomes.map((reservation) => reservation.orderId)).toEqual(carts.map((c) => c.orderId));
    for (const [i, reservation] of outcomes.entries()) {
      // Each line as asked, in the order the cart listed it, with its own store's packets of its food.
      expect(reservation.items.map((line) => [line.foodId, line.quantity, line.packetIds.length])).toEqual(
        carts[i].items.map((line) => [line.foodId, line.quantity, line.quantity]),
      );
      const rows = await held(carts[i].orderId);
      expect(rows.map((row) => row.id).sort()).toEqual(packetIds(reservation).sort());
      expect(new Set(rows.map((row) => `${row.store_id} ${row.state}`))).toEqual(new Set([`${carts[i].storeId} RESERVED`]));
      for (const line of reservation.items)
        expect(rows.filter((row) => line.packetIds.includes(row.id)).every((row) => row.food_id === line.foodId)).toBe(true);
    }
    expect(new Set(outcomes.flatMap(packetIds)).size).toBe(3 + 2 + 2 + 4);
  });

  it('reserves a batch over four (store, food) scopes in three round trips to the database, and assigns it in two', async () => {
    const [dosa, idli] = [await food(4), await food(4)];
    const other = await store({ [dosa]: 4, [idli]: 4 });
    const carts = [
      cart(DEFAULT_STORE_ID, [
        [dosa, 1],
        [idli, 2],
      ]),
      cart(other, [[dosa, 2]]),
      cart(other, [
        [idli, 1],
        [dosa, 1],
      ]),
    ];

    const trips = countRoundTrips();
    try {
      const reserved = (await packets.reserveCarts(carts)).map(ok);
      // The barriers with BEGIN; the free packets of every scope; the hand-out with COMMIT.
      expect(trips.count()).toBe(3);
      await packets.assignBatch(reserved.map((r) => ({ orderId: r.orderId, packetIds: packetIds(r) })));
      // The packets locked with BEGIN; their marks and the four count rows with COMMIT.
      expect(trips.count()).toBe(3 + 2);
    } finally {
      trips.stop();
    }
    for (const c of carts) expect(new Set((await held(c.orderId)).map((row) => row.state))).toEqual(new Set(['ASSIGNED']));
    expect([
      await counted(DEFAULT_STORE_ID, dosa),
      await counted(DEFAULT_STORE_ID, idli),
      await counted(other, dosa),
      await counted(other, idli),
    ]).toEqual([1, 2, 3, 1]);
  });

  it('refuses one order short of stock alone: the others of its batch are held, it holds nothing and leaves no barrier row', async () => {
    const [dosa, idli] = [await food(3), await food(5)];
    const carts = [
      cart(DEFAULT_STORE_ID, [[dosa, 1]]),
      cart(DEFAULT_STORE_ID, [
        [idli, 2],
        [dosa, 4],
      ]),
      cart(DEFAULT_STORE_ID, [
        [dosa, 2],
        [idli, 3],
      ]),
      cart(DEFAULT_STORE_ID, [[2_000_000_000, 1]]),
      cart(2_000_000_000, [[dosa, 1]]),
    ];

    const outcomes = await packets.reserveCarts(carts);

    expect(outcomes.map((outcome) => error(outcome)?.code)).toEqual([
      undefined,
      ErrorCode.OUT_OF_STOCK,
      undefined,
      ErrorCode.UNKNOWN_FOOD,
      ErrorCode.STORE_NOT_FOUND,
    ]);
    expect(error(outcomes[1])?.details).toEqual([{ foodId: dosa, missing: 1 }]);
    expect(packetIds(ok(outcomes[0]))).toHaveLength(1);
    expect(packetIds(ok(outcomes[2]))).toHaveLength(5);
    for (const refused of [carts[1], carts[3], carts[4]]) {
      expect(await held(refused.orderId)).toEqual([]);
      expect(await barrier(refused.orderId)).toEqual([]);
    }
  });

  it('gives a later order of the batch "ask again", not a refusal, when earlier orders of the batch hold the packets it lacks (I7)', async () => {
    const dosa = await food(3);
    const [first, second] = [cart(DEFAULT_STORE_ID, [[dosa, 2]]), cart(DEFAULT_STORE_ID, [[dosa, 2]])];

    const outcomes = await packets.reserveCarts([first, second]);

    expect(packetIds(ok(outcomes[0]))).toHaveLength(2);
    expect(error(outcomes[1])).toMatchObject({ code: ErrorCode.ALL_RESERVED, details: [{ foodId: dosa, missing: 1 }] });
    expect(await held(second.orderId)).toEqual([]);
    // Once they are assigned they will not come back: then it is a refusal.
    await packets.assign(first.orderId, packetIds(ok(outcomes[0])));
    const [late] = await packets.reserveCarts([cart(DEFAULT_STORE_ID, [[dosa, 2]])]);
    expect(error(late)).toMatchObject({ code: ErrorCode.OUT_OF_STOCK, details: [{ foodId: dosa, missing: 1 }] });
  });

  it('refuses a released order of a batch alone (ORDER_RELEASED), and an order past retention alone, writing nothing for either', async () => {
    const dosa = await food(3);
    const [before, released, after] = [
      cart(DEFAULT_STORE_ID, [[dosa, 1]]),
      cart(DEFAULT_STORE_ID, [[dosa, 1]]),
      cart(DEFAULT_STORE_ID, [[dosa, 1]]),
    ];
    const old = { ...cart(DEFAULT_STORE_ID, [[dosa, 1]]), orderId: v7({ msecs: Date.now() - RETENTION_MS - 1000 }) };
    await packets.release(released.orderId);

    const outcomes = await packets.reserveCarts([before, released, old, after]);

    expect(outcomes.map((outcome) => error(outcome)?.code)).toEqual([
      undefined,
      ErrorCode.ORDER_RELEASED,
      ErrorCode.ORDER_TOO_OLD,
      undefined,
    ]);
    expect(await held(released.orderId)).toEqual([]);
    expect(await barrier(released.orderId)).toEqual([{ released: 1 }]);
    expect(await held(old.orderId)).toEqual([]);
    expect(await barrier(old.orderId)).toEqual([]);
    expect([...(await held(before.orderId)), ...(await held(after.orderId))]).toHaveLength(2);
  });

  it('answers a reserve repeated in a later batch, or twice in one batch, with the packets the first one took', async () => {
    const [dosa, idli] = [await food(6), await food(6)];
    const [a, b, c] = [
      cart(DEFAULT_STORE_ID, [
        [dosa, 2],
        [idli, 1],
      ]),
      cart(DEFAULT_STORE_ID, [[idli, 2]]),
      cart(DEFAULT_STORE_ID, [[dosa, 3]]),
    ];

    const first = (await packets.reserveCarts([a, b, a])).map(ok);
    const again = (await packets.reserveCarts([c, b, a])).map(ok);

    expect(first[2]).toEqual(first[0]);
    expect(again[1]).toEqual(first[1]);
    expect(again[2]).toEqual(first[0]);
    expect((await held(a.orderId)).map((row) => row.id)).toEqual(packetIds(first[0]).sort((x, y) => x - y));
    expect(await held(b.orderId)).toHaveLength(2);
    expect(await held(c.orderId)).toHaveLength(3);
  });

  it('assigns a batch: each order exactly its logged packets, one RESERVATION_LOST alone, counts exact and once', async () => {
    const [dosa, idli] = [await food(4), await food(4)];
    const carts = [
      cart(DEFAULT_STORE_ID, [
        [dosa, 2],
        [idli, 1],
      ]),
      cart(DEFAULT_STORE_ID, [[dosa, 1]]),
      cart(DEFAULT_STORE_ID, [[idli, 2]]),
    ];
    const [a, b, c] = (await packets.reserveCarts(carts)).map(ok).map(packetIds);
    const requests = [
      { orderId: carts[0].orderId, packetIds: a },
      // Names a packet of another order: lost, and nothing of it assigned.
      { orderId: carts[1].orderId, packetIds: [...b, c[0]] },
      { orderId: carts[2].orderId, packetIds: c },
      { orderId: carts[0].orderId, packetIds: a },
    ];

    const outcomes = await packets.assignBatch(requests);

    expect(outcomes.map((outcome) => error(outcome)?.code)).toEqual([undefined, ErrorCode.RESERVATION_LOST, undefined, undefined]);
    expect(ok(outcomes[0])).toEqual(requests[0]);
    expect((await held(carts[0].orderId)).map((row) => row.state)).toEqual(['ASSIGNED', 'ASSIGNED', 'ASSIGNED']);
    expect((await held(carts[1].orderId)).map((row) => row.state)).toEqual(['RESERVED']);
    expect((await held(carts[2].orderId)).map((row) => row.state)).toEqual(['ASSIGNED', 'ASSIGNED']);
    expect([await counted(DEFAULT_STORE_ID, dosa), await counted(DEFAULT_STORE_ID, idli)]).toEqual([2, 3]);
    // Repeated as a whole: answered alike, counted nothing more.
    expect((await packets.assignBatch(requests)).map((outcome) => error(outcome)?.code)).toEqual([
      undefined,
      ErrorCode.RESERVATION_LOST,
      undefined,
      undefined,
    ]);
    expect([await counted(DEFAULT_STORE_ID, dosa), await counted(DEFAULT_STORE_ID, idli)]).toEqual([2, 3]);
  });

  it('releases a batch: frees what each order holds, reserved or assigned, counts exact, and bars later reserves of all', async () => {
    const dosa = await food(0);
    const [near, far] = [await store({ [dosa]: 3 }), await store({ [dosa]: 3 })];
    const carts = [cart(near, [[dosa, 2]]), cart(far, [[dosa, 1]]), cart(near, [[dosa, 1]]), cart(far, [[dosa, 2]])];
    const reserved = (await packets.reserveCarts(carts)).map(ok).map(packetIds);
    await packets.assignBatch([
      { orderId: carts[0].orderId, packetIds: reserved[0] },
      { orderId: carts[1].orderId, packetIds: reserved[1] },
      { orderId: carts[3].orderId, packetIds: reserved[3] },
    ]);
    expect([await counted(near, dosa), await counted(far, dosa)]).toEqual([2, 3]);
    const never = v7();

    const outcomes = (
      await packets.releaseBatch([...carts, never, carts[0].orderId].map((c) => ({ orderId: typeof c === 'string' ? c : c.orderId })))
    ).map(ok);

    expect(outcomes.map((result) => result.freed)).toEqual([2, 1, 1, 2, 0, 0]);
    expect([await counted(near, dosa), await counted(far, dosa)]).toEqual([0, 0]);
    for (const { orderId } of carts) expect(await held(orderId)).toEqual([]);
    const late = await packets.reserveCarts([...carts, { ...cart(near, [[dosa, 1]]), orderId: never }]);
    expect(late.map((outcome) => error(outcome)?.code)).toEqual(Array(5).fill(ErrorCode.ORDER_RELEASED));
  });

  it('runs many batches at once, with overlapping foods listed in opposite orders: no deadlock, no packet given twice; then their assigns and releases at once, counts exact (I1, I5, I7)', async () => {
    const foods = [await food(0), await food(0), await food(0)];
    const stores = [await store({ [foods[0]]: 30, [foods[1]]: 30, [foods[2]]: 30 }), await store({ [foods[0]]: 30, [foods[1]]: 30 })];
    const batches = Array.from({ length: 24 }, (_, i) =>
      Array.from({ length: 8 }, (_, j) => {
        const storeId = stores[(i + j) % 2];
        const lines: [number, number][] = [
          [foods[0], 1 + (j % 2)],
          [foods[1], 1],
        ];
        if (storeId === stores[0] && j % 3 === 0) lines.push([foods[2], 2]);
        return cart(storeId, i % 2 === 0 ? lines : lines.reverse());
      }).reverse(),
    );
    const watch = watchLockConflicts();

    const outcomes = await Promise.all(batches.map((batch) => packets.reserveCarts(batch))).finally(watch.stop);

    expect(watch.conflicts).toEqual([]);
    const carts = batches.flat();
    const answers = outcomes.flat();
    const given = answers.flatMap((outcome) => ('ok' in outcome ? packetIds(outcome.ok) : []));
    expect(new Set(given).size).toBe(given.length);
    const rows = await service.rows<{ id: number; order_id: string; store_id: number }>(
      `SELECT id, order_id, store_id FROM packet WHERE order_id IN (?)`,
      [carts.map((c) => c.orderId)],
    );
    expect(rows.map((row) => row.id).sort((x, y) => x - y)).toEqual([...given].sort((x, y) => x - y));
    for (const [i, outcome] of answers.entries()) {
      if ('ok' in outcome) expect(rows.filter((row) => row.order_id === carts[i].orderId)).toHaveLength(packetIds(outcome.ok).length);
      else expect(outcome.error.code).toBe(ErrorCode.ALL_RESERVED);
    }
    // Nothing was assigned, so every refusal is "ask again"; and each store served carts of its own.
    for (const storeId of stores) {
      expect(carts.filter((c, i) => c.storeId === storeId && 'ok' in answers[i]).length).toBeGreaterThan(5);
    }

    // Phase 2 at once: the held carts assigned or released by batches in opposite orders, the refused ones released.
    const placed = carts.flatMap((c, i) => ('ok' in answers[i] ? [{ orderId: c.orderId, packetIds: packetIds(answers[i].ok) }] : []));
    const toAssign = placed.filter((_, i) => i % 3 !== 0);
    const toRelease = [...placed.filter((_, i) => i % 3 === 0), ...carts.filter((_, i) => 'error' in answers[i])].map(({ orderId }) => ({
      orderId,
    }));
    const inBatches = <T>(items: T[], size: number) =>
      Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size)).map((batch, i) =>
        i % 2 === 0 ? batch : batch.reverse(),
      );
    const phase2 = watchLockConflicts();
    await Promise.all([
      ...inBatches(toAssign, 6).map((batch) => packets.assignBatch(batch)),
      ...inBatches([...toAssign].reverse(), 6).map((batch) => packets.assignBatch(batch)),
      ...inBatches(toRelease, 6).map((batch) => packets.releaseBatch(batch)),
    ]).finally(phase2.stop);

    expect(phase2.conflicts).toEqual([]);
    const counts = await service.rows<{
      store_id: number;
      food_id: number;
      assigned: string;
      rows: string;
      total: string;
      packets: string;
    }>(
      `SELECT c.store_id, c.food_id, c.assigned, c.total,
              (SELECT COUNT(*) FROM packet p WHERE p.store_id = c.store_id AND p.food_id = c.food_id AND p.state = 'ASSIGNED') AS \`rows\`,
              (SELECT COUNT(*) FROM packet p WHERE p.store_id = c.store_id AND p.food_id = c.food_id) AS packets
         FROM packet_count c WHERE c.store_id IN (?)`,
      [stores],
    );
    expect(counts).toHaveLength(5);
    for (const count of counts) expect([Number(count.assigned), Number(count.total)]).toEqual([Number(count.rows), Number(count.packets)]);
    const assigned = await service.rows<{ n: string }>(`SELECT COUNT(*) AS n FROM packet WHERE state = 'ASSIGNED' AND order_id IN (?)`, [
      toAssign.map((order) => order.orderId),
    ]);
    expect(Number(assigned[0].n)).toBe(toAssign.flatMap((order) => order.packetIds).length);
    expect(await service.rows(`SELECT id FROM packet WHERE order_id IN (?)`, [toRelease.map((order) => order.orderId)])).toEqual([]);
  });
});
