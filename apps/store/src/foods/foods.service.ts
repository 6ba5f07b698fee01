import { DEFAULT_STORE_ID, ErrorCode, FoodView } from '@app/contracts';
import { isDuplicateKey, once, withRetries } from '@app/database';
import { ContractException } from '@app/platform';
import { Injectable } from '@nestjs/common';
import type { ResultSetHeader } from 'mysql2';
import { DataSource } from 'typeorm';
import { StoresService } from '../stores/stores.service';

interface FoodRow {
  id: number;
  name: string;
  total: number | string | null;
  assigned: number | string | null;
  reserved: number | string;
}

/**
 * The catalogue of foods, shared by every dark store, with the stock of the default store (the
 * single-food API: GET /foods, POST /foods). A food with no packet in the default store shows zeros.
 */
@Injectable()
export class FoodsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly stores: StoresService,
  ) {}

  /**
   * A food of the catalogue with its first packets in the default store, once per Idempotency-Key;
   * with `id`, under that id (the id the default store's partition gave it: see CreateFoodCommand).
   */
  create(name: string, packets: number, idempotencyKey: string, id?: number): Promise<FoodView> {
    return once(this.dataSource, 'stock_addition', idempotencyKey, { create: { name, packets, id } }, async (manager) => {
      let foodId: number;
      try {
        const inserted: ResultSetHeader =
          id === undefined
            ? await manager.query(`INSERT INTO food (name) VALUES (?)`, [name])
            : await manager.query(`INSERT INTO food (id, name) VALUES (?, ?)`, [id, name]);
        foodId = id ?? inserted.insertId;
      } catch (err) {
        if (isDuplicateKey(err)) throw new ContractException(ErrorCode.FOOD_EXISTS, `A food named "${name}" already exists`);
        throw err;
      }
      return this.stores.stock(manager, DEFAULT_STORE_ID, foodId, packets);
    });
  }

  /** Every food of the catalogue, with its packets in the default store (see StoresService for how they are counted). */
  async list(): Promise<FoodView[]> {
    const rows: FoodRow[] = await withRetries(() =>
      this.dataSource.query(
        `SELECT f.id, f.name, c.total, c.assigned,
                (SELECT COUNT(*) FROM packet p FORCE INDEX (idx_packet_stock)
                  WHERE p.store_id = ? AND p.food_id = f.id AND p.state = 'RESERVED') AS reserved
           FROM food f LEFT JOIN packet_count c ON c.food_id = f.id AND c.store_id = ?
          ORDER BY f.id`,
        [DEFAULT_STORE_ID, DEFAULT_STORE_ID],
      ),
    );
    return rows.map((row) => {
      const [total, assigned, reserved] = [Number(row.total ?? 0), Number(row.assigned ?? 0), Number(row.reserved)];
      return { id: Number(row.id), name: row.name, packets: { free: total - assigned - reserved, reserved, assigned, total } };
    });
  }
}
