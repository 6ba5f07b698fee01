import { ErrorCode, FoodView, StoreStock } from '@app/contracts';
import { insertRows, isDuplicateKey, once, Queryable, retryAtBoot, withRetries } from '@app/database';
import { ContractException } from '@app/platform';
import { Injectable, Logger } from '@nestjs/common';
import type { ResultSetHeader } from 'mysql2';
import { DataSource } from 'typeorm';
import { StoreEnv } from '../config/store.env';

interface StockRow {
  storeId: number;
  storeName: string;
  foodId: number | null;
  foodName: string | null;
  total: number | string | null;
  assigned: number | string | null;
  reserved: number | string | null;
}

/**
 * The stock of dark stores, per food, from packet_count and the store's reserved packets of each
 * food (see the PacketCount migration): no packet row is read, only the index entries of reserved
 * packets in idx_packet_stock (store_id, food_id, state), which alone answer the count. So a
 * listing costs the same at 10M packets as at 1,000. One statement: one consistent view.
 */
const STOCK = `
  SELECT s.id AS storeId, s.name AS storeName, f.id AS foodId, f.name AS foodName, c.total, c.assigned,
         (SELECT COUNT(*) FROM packet p FORCE INDEX (idx_packet_stock)
           WHERE p.store_id = s.id AND p.food_id = f.id AND p.state = 'RESERVED') AS reserved
    FROM dark_store s
    LEFT JOIN packet_count c ON c.store_id = s.id
    LEFT JOIN food f ON f.id = c.food_id`;

/**
 * Dark stores and their packets, for the admin queue. Additions run once per Idempotency-Key (see
 * once()) in one transaction with retries, and are bounded by MAX_PACKETS_PER_REQUEST so each
 * commits in well under the gateway's wait.
 */
@Injectable()
export class StoresService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly env: StoreEnv,
  ) {}

  /**
   * Makes the next store id the first of this service's range (its partition's, STORE_IDS_FROM to
   * STORE_IDS_TO) if the table has none there yet: each partition's database allocates the ids of
   * its own range, so store ids stay unique across partitions. Run at start-up, after the migrations,
   * and tried again while the database is out of reach (a killed connection must not stop a start).
   */
  claimIdRange(): Promise<void> {
    return retryAtBoot('claim the dark store id range', new Logger(StoresService.name), async () => {
      const [{ last }]: { last: number | null }[] = await this.dataSource.query(`SELECT MAX(id) AS last FROM dark_store`);
      if (Number(last ?? 0) < this.env.STORE_IDS_FROM) {
        await this.dataSource.query(`ALTER TABLE dark_store AUTO_INCREMENT = ${Number(this.env.STORE_IDS_FROM)}`);
      }
    });
  }

  /** A new dark store, with the next id of this service's range; refused once the range is used up. */
  create(name: string, idempotencyKey: string): Promise<StoreStock> {
    return once(this.dataSource, 'stock_addition', idempotencyKey, { store: { name } }, async (manager) => {
      try {
        const inserted: ResultSetHeader = await manager.query(`INSERT INTO dark_store (name) VALUES (?)`, [name]);
        // Past the range: the insert rolls back with the refusal.
        if (!this.env.ownsStore(inserted.insertId)) {
          const { STORE_IDS_FROM: from, STORE_IDS_TO: to } = this.env;
          throw new ContractException(ErrorCode.STORE_RANGE_FULL, `Every dark store id of this partition (${from} to ${to}) is taken`);
        }
        return { id: inserted.insertId, name, foods: [] };
      } catch (err) {
        if (isDuplicateKey(err)) throw new ContractException(ErrorCode.STORE_EXISTS, `A dark store named "${name}" already exists`);
        throw err;
      }
    });
  }

  /** Every dark store with its stock per food it has packets of, or only `storeId` (STORE_NOT_FOUND if none). */
  async list(storeId?: number): Promise<StoreStock[]> {
    if (storeId !== undefined && !this.env.ownsStore(storeId)) throw storeNotFound(storeId);
    const { STORE_IDS_FROM: from, STORE_IDS_TO: to } = this.env;
    const rows: StockRow[] = await withRetries(() =>
      storeId === undefined
        ? this.dataSource.query(`${STOCK} WHERE s.id BETWEEN ? AND ? ORDER BY s.id, f.id`, [from, to])
        : this.dataSource.query(`${STOCK} WHERE s.id = ? ORDER BY f.id`, [storeId]),
    );
    if (storeId !== undefined && rows.length === 0) throw storeNotFound(storeId);
    const stores = new Map<number, StoreStock>();
    for (const row of rows) {
      const store = stores.get(row.storeId) ?? { id: Number(row.storeId), name: row.storeName, foods: [] };
      stores.set(row.storeId, store);
      if (row.foodId !== null) store.foods.push(foodView(row));
    }
    return [...stores.values()];
  }

  /** Adds `count` packets of a food of the catalogue to a dark store; answers the food with the store's new counts. */
  addPackets(storeId: number, foodId: number, count: number, idempotencyKey: string): Promise<FoodView> {
    return once(this.dataSource, 'stock_addition', idempotencyKey, { add: { storeId, foodId, count } }, async (manager) => {
      if (!this.env.ownsStore(storeId)) throw storeNotFound(storeId);
      const [{ store, food }]: { store: number; food: number }[] = await manager.query(
        `SELECT EXISTS (SELECT 1 FROM dark_store WHERE id = ?) AS store, EXISTS (SELECT 1 FROM food WHERE id = ?) AS food`,
        [storeId, foodId],
      );
      if (!Number(store)) throw storeNotFound(storeId);
      if (!Number(food)) throw new ContractException(ErrorCode.FOOD_NOT_FOUND, `Food ${foodId} does not exist`);
      return this.stock(manager, storeId, foodId, count);
    });
  }

  /**
   * Adds packets in `manager`'s transaction and answers the food's counts in the store. The count
   * row is written last: every assign of this food in this store updates it, so its lock is held
   * only until the commit.
   */
  async stock(manager: Queryable, storeId: number, foodId: number, count: number): Promise<FoodView> {
    await insertRows(
      manager,
      'packet',
      ['store_id', 'food_id'],
      Array.from({ length: count }, () => [storeId, foodId]),
    );
    await manager.query(
      `INSERT INTO packet_count (store_id, food_id, total) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE total = total + VALUES(total)`,
      [storeId, foodId, count],
    );
    const [row]: StockRow[] = await manager.query(`${STOCK} WHERE s.id = ? AND f.id = ?`, [storeId, foodId]);
    return foodView(row);
  }
}

export function storeNotFound(storeId: number): ContractException {
  return new ContractException(ErrorCode.STORE_NOT_FOUND, `Dark store ${storeId} does not exist`);
}

function foodView(row: StockRow): FoodView {
  const [total, assigned, reserved] = [Number(row.total ?? 0), Number(row.assigned ?? 0), Number(row.reserved ?? 0)];
  return { id: Number(row.foodId), name: String(row.foodName), packets: { free: total - assigned - reserved, reserved, assigned, total } };
}
