import { DEFAULT_STORE_ID, ErrorCode, orderIdFloor } from '@app/contracts';
import { RpcException } from '@nestjs/microservices';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { v7 } from 'uuid';
import { startService } from '../../../../libs/database/src/testing/service-under-test';
import { FoodsService } from '../foods/foods.service';
import { StoresService } from '../stores/stores.service';
import { StoreModule } from '../store.module';
import { PacketsService } from './packets.service';

/**
 * The store's side of the two-phase commit against the real MariaDB: what reserve, assign, release
 * and the sweep do to packet rows, one call at a time and racing.
 */

const TTL_MS = 1500;
const RETENTION_MS = 3_600_000;
let service: Awaited<ReturnType<typeof startService>>;
let packets: PacketsService;

beforeAll(async () => {
  service = await startService(StoreModule, 'STORE_DB_NAME', 'unit_store', {
    RESERVATION_TTL_MS: String(TTL_MS),
    SWEEP_INTERVAL_MS: '600000',
    RETENTION_MS: String(RETENTION_MS),
    // The test prunes by hand (pruneBarrier), so the periodic run stays out of its way.
    PRUNE_INTERVAL_MS: '86400000',
    STORE_METRICS_PORT: '0',
  });
  packets = service.app.get(PacketsService);
});
afterAll(() => service?.close());

/** A food with `count` free packets, as an admin adds it. */
async function food(count: number): Promise<number> {
  return (await service.app.get(FoodsService).create(`food ${randomUUID()}`, count, randomUUID())).id;
}

/** The food's count row, which GET /foods reads instead of its packets. */
async function counted(foodId: number): Promise<{ total: number; assigned: number }> {
  const [row] = await service.rows<{ total: string; assigned: string }>(
    `SELECT total, assigned FROM packet_count WHERE store_id = ? AND food_id = ?`,
    [DEFAULT_STORE_ID, foodId],
  );
  return { total: Number(row.total), assigned: Number(row.assigned) };
}

/** A cart of one line, of the default store, as the single-food form of an order makes. */
const reserve = (orderId: string, foodId: number, quantity = 1) =>
  packets
    .reserveCart(orderId, DEFAULT_STORE_ID, [{ foodId, quantity }])
    .then(({ items: [line] }) => ({ orderId, packetId: line.packetIds[0] }));
const assign = (orderId: string, packetId: number) => packets.assign(orderId, [packetId]).then(() => ({ orderId, packetId }));

const held = (orderId: string) =>
  service.rows<{ id: number; state: string }>(`SELECT id, state FROM packet WHERE order_id = ? ORDER BY id`, [orderId]);
const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'ok',
    (err: RpcException) => (err.getError() as { code: ErrorCode }).code,
  );

describe('PacketsService', () => {
  it('holds one free packet per order until its expiry, and answers a repeated reserve with the same packet', async () => {
    const foodId = await food(2);
    const orderId = v7();

    const first = await reserve(orderId, foodId);
    const again = await reserve(orderId, foodId);

    expect(again).toEqual(first);
    expect(await held(orderId)).toEqual([{ id: first.packetId, state: 'RESERVED' }]);
    const [{ ahead }] = await service.rows<{ ahead: number }>(
      `SELECT TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(3), reserved_until) / 1000 AS ahead FROM packet WHERE id = ?`,
      [first.packetId],
    );
    expect(Number(ahead)).toBeGreaterThan(TTL_MS - 1000);
    expect(Number(ahead)).toBeLessThanOrEqual(TTL_MS);
  });

  it('says "ask again" while every packet is held by orders still deciding, and refuses only when none can come back', async () => {
    const foodId = await food(1);
    const holder = v7();
    const { packetId } = await reserve(holder, foodId);

    expect(await codeOf(reserve(v7(), foodId))).toBe(ErrorCode.ALL_RESERVED);
    await assign(holder, packetId);
    expect(await codeOf(reserve(v7(), foodId))).toBe(ErrorCode.OUT_OF_STOCK);
    expect(await codeOf(reserve(v7(), 2_000_000_000))).toBe(ErrorCode.UNKNOWN_FOOD);
  });

  it('lets a new order take a packet whose reservation expired; the first order then loses it at assign', async () => {
    const foodId = await food(1);
    const late = v7();
    const { packetId } = await reserve(late, foodId);
    await sleep(TTL_MS + 100);

    const next = v7();
    expect(await reserve(next, foodId)).toEqual({ orderId: next, packetId });
    expect(await codeOf(assign(late, packetId))).toBe(ErrorCode.RESERVATION_LOST);
    expect(await assign(next, packetId)).toEqual({ orderId: next, packetId });
  });

  it('assigns exactly the named packet still reserved for the order, and answers a repeat alike', async () => {
    const foodId = await food(2);
    const orderId = v7();
    const { packetId } = await reserve(orderId, foodId);
    const other = await reserve(v7(), foodId);

    expect(await codeOf(assign(orderId, other.packetId))).toBe(ErrorCode.RESERVATION_LOST);
    expect(await assign(orderId, packetId)).toEqual({ orderId, packetId });
    expect(await assign(orderId, packetId)).toEqual({ orderId, packetId });
    expect(await held(orderId)).toEqual([{ id: packetId, state: 'ASSIGNED' }]);
    // Counted once, in the assigning statement itself; the repeat counts nothing.
    expect(await counted(foodId)).toEqual({ total: 2, assigned: 1 });
  });

  it('releases what the order holds, reserved or assigned, and refuses a reserve that arrives after the release', async () => {
    const foodId = await food(2);
    const orderId = v7();
    const { packetId } = await reserve(orderId, foodId);
    await assign(orderId, packetId);
    expect(await counted(foodId)).toEqual({ total: 2, assigned: 1 });

    expect(await packets.release(orderId)).toEqual({ orderId, freed: 1 });
    expect(await packets.release(orderId)).toEqual({ orderId, freed: 0 });
    expect(await counted(foodId)).toEqual({ total: 2, assigned: 0 });
    expect(await codeOf(reserve(orderId, foodId))).toBe(ErrorCode.ORDER_RELEASED);
    // An empty rollback (release before any reserve) bars the late reserve too.
    const never = v7();
    expect(await packets.release(never)).toEqual({ orderId: never, freed: 0 });
    expect(await codeOf(reserve(never, foodId))).toBe(ErrorCode.ORDER_RELEASED);
    expect(await held(orderId)).toEqual([]);
  });

  it('gives each of many racing orders its own packet, exactly as many as there are, with no deadlock (I1, I7)', async () => {
    const foodId = await food(20);
    const orders = Array.from({ length: 40 }, () => v7());

    const outcomes = await Promise.all(
      orders.map((orderId) =>
        reserve(orderId, foodId).then(
          (r) => r.packetId,
          () => undefined,
        ),
      ),
    );

    const got = outcomes.filter((id) => id !== undefined);
    expect(got).toHaveLength(20);
    expect(new Set(got).size).toBe(20);
  });

  it('sweeps expired reservations back to free, a batch at a time', async () => {
    // The earlier tests' reservations first, so that only this test's are left to sweep.
    await sleep(TTL_MS + 100);
    while ((await packets.sweepExpired(1000)) > 0);
    const foodId = await food(5);
    for (let i = 0; i < 5; i++) await reserve(v7(), foodId);
    await sleep(TTL_MS + 100);

    expect(await packets.sweepExpired(2)).toBe(2);
    expect(await packets.sweepExpired(10)).toBe(3);
    const [{ free }] = await service.rows<{ free: number }>(`SELECT COUNT(*) AS free FROM packet WHERE food_id = ? AND state = 'FREE'`, [
      foodId,
    ]);
    expect(Number(free)).toBe(5);
  });

  it('holds every packet of a cart or none: a short line leaves the others free, and the refusal names each food short', async () => {
    const [plenty, scarce] = [await food(3), await food(1)];
    const orderId = v7();

    const refused = await packets
      .reserveCart(orderId, DEFAULT_STORE_ID, [
        { foodId: plenty, quantity: 2 },
        { foodId: scarce, quantity: 3 },
      ])
      .then(
        () => undefined,
        (err: RpcException) => err.getError(),
      );

    expect(refused).toMatchObject({ code: ErrorCode.OUT_OF_STOCK, details: [{ foodId: scarce, missing: 2 }] });
    expect(await held(orderId)).toEqual([]);
    const placed = await packets.reserveCart(v7(), DEFAULT_STORE_ID, [
      { foodId: scarce, quantity: 1 },
      { foodId: plenty, quantity: 3 },
    ]);
    expect(placed.items.map((line) => [line.foodId, line.packetIds.length])).toEqual([
      [scarce, 1],
      [plenty, 3],
    ]);
  });

  it('says "ask again", naming what is missing now, while the packets a cart lacks are held by orders still deciding', async () => {
    const foodId = await food(3);
    await reserve(v7(), foodId, 2);

    const contended = await packets.reserveCart(v7(), DEFAULT_STORE_ID, [{ foodId, quantity: 2 }]).then(
      () => undefined,
      (err: RpcException) => err.getError(),
    );

    expect(contended).toMatchObject({ code: ErrorCode.ALL_RESERVED, details: [{ foodId, missing: 1 }] });
  });

  it('takes packets of the order’s store only, and refuses an unknown store', async () => {
    const foodId = await food(0);
    const { id: other } = await service.app.get(StoresService).create(`store ${randomUUID()}`, randomUUID());
    await service.app.get(StoresService).addPackets(other, foodId, 2, randomUUID());

    expect(await codeOf(reserve(v7(), foodId))).toBe(ErrorCode.OUT_OF_STOCK);
    const cart = await packets.reserveCart(v7(), other, [{ foodId, quantity: 2 }]);
    const stores = await service.rows<{ store_id: number }>(`SELECT DISTINCT store_id FROM packet WHERE id IN (?)`, [
      cart.items[0].packetIds,
    ]);
    expect(stores).toEqual([{ store_id: other }]);
    expect(await codeOf(packets.reserveCart(v7(), 2_000_000_000, [{ foodId, quantity: 1 }]))).toBe(ErrorCode.STORE_NOT_FOUND);
  });

  it('assigns all of an order’s packets or none, and keeps the counts of each food', async () => {
    const [a, b] = [await food(2), await food(2)];
    const orderId = v7();
    const cart = await packets.reserveCart(orderId, DEFAULT_STORE_ID, [
      { foodId: a, quantity: 1 },
      { foodId: b, quantity: 2 },
    ]);
    const ids = cart.items.flatMap((line) => line.packetIds);

    expect(await codeOf(packets.assign(orderId, [...ids, 999_999_999]))).toBe(ErrorCode.RESERVATION_LOST);
    expect((await held(orderId)).map((row) => row.state)).toEqual(['RESERVED', 'RESERVED', 'RESERVED']);
    expect(await packets.assign(orderId, ids)).toEqual({ orderId, packetIds: ids });
    expect(await packets.assign(orderId, ids)).toEqual({ orderId, packetIds: ids });
    expect([await counted(a), await counted(b)]).toEqual([
      { total: 2, assigned: 1 },
      { total: 2, assigned: 2 },
    ]);
    expect(await packets.release(orderId)).toEqual({ orderId, freed: 3 });
    expect([await counted(a), await counted(b)]).toEqual([
      { total: 2, assigned: 0 },
      { total: 2, assigned: 0 },
    ]);
  });

  it('prunes barrier rows of orders older than RETENTION_MS a batch at a time, keeps younger ones, and refuses a reserve of a pruned order', async () => {
    const foodId = await food(1);
    const old = Array.from({ length: 5 }, (_, i) => v7({ msecs: Date.now() - RETENTION_MS - 1000 - i }));
    for (const orderId of old) await packets.release(orderId);
    const young = v7();
    await packets.release(young);
    const barrierRows = async () =>
      (await service.rows<{ order_id: string }>(`SELECT order_id FROM packet_barrier WHERE order_id IN (?)`, [[...old, young]])).map(
        (r) => r.order_id,
      );

    const floor = orderIdFloor(Date.now() - RETENTION_MS);
    expect(await packets.pruneBarrier(floor, 2)).toBe(2);
    expect(await packets.pruneBarrier(floor, 10)).toBe(3);
    expect(await barrierRows()).toEqual([young]);

    // Its release is forgotten with the row; the age still refuses it, and the refusal writes nothing.
    expect(await codeOf(reserve(old[0], foodId))).toBe(ErrorCode.ORDER_TOO_OLD);
    expect(await held(old[0])).toEqual([]);
    expect(await barrierRows()).toEqual([young]);
  });
});
