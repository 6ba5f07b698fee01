import { ErrorCode, FoodView } from '@app/contracts';
import { ContractException } from '@app/platform';
import { insertRows, isDuplicateKey, once, withRetries } from '@app/database';
import { Injectable } from '@nestjs/common';
import type { ResultSetHeader } from 'mysql2';
import { DataSource, EntityManager } from 'typeorm';

interface FoodRow {
  id: number;
  name: string;
  total: number | string;
  assigned: number | string;
  reserved: number | string;
}

/**
 * A food with its packet counts, from packet_count and the food's reserved packets (see the
 * PacketCount migration): no packet row is read, only the index entries of the food's reserved
 * packets in idx_packet_pick (food_id, state), which alone answers the count. The optimizer would
 * rather take idx_packet_expiry (state first) and look every reserved packet of every food up
 * once per food, hence the hint. One statement, so one consistent view of the three counts.
 */
const FOOD_VIEW = `
  SELECT f.id, f.name, c.total, c.assigned,
         (SELECT COUNT(*) FROM packet p FORCE INDEX (idx_packet_pick) WHERE p.food_id = f.id AND p.state = 'RESERVED') AS reserved
    FROM food f JOIN packet_count c ON c.food_id = f.id`;

/**
 * Foods and their stock, for the admin queue. Additions run once per Idempotency-Key (see once()),
 * in one transaction with retries, and are bounded by MAX_PACKETS_PER_REQUEST so each commits in
 * well under the gateway's wait.
 */
@Injectable()
export class FoodsService {
  constructor(private readonly dataSource: DataSource) {}

  create(name: string, packets: number, idempotencyKey: string): Promise<FoodView> {
    return once(this.dataSource, 'stock_addition', idempotencyKey, { create: { name, packets } }, async (manager) => {
      let foodId: number;
      try {
        const inserted: ResultSetHeader = await manager.query(`INSERT INTO food (name) VALUES (?)`, [name]);
        foodId = inserted.insertId;
      } catch (err) {
        if (isDuplicateKey(err)) throw new ContractException(ErrorCode.FOOD_EXISTS, `A food named "${name}" already exists`);
        throw err;
      }
      await insertRows(manager, 'packet', 'food_id', new Array(packets).fill(foodId));
      await manager.query(`INSERT INTO packet_count (food_id, total) VALUES (?, ?)`, [foodId, packets]);
      return this.view(manager, foodId);
    });
  }

  addPackets(foodId: number, count: number, idempotencyKey: string): Promise<FoodView> {
    return once(this.dataSource, 'stock_addition', idempotencyKey, { add: { foodId, count } }, async (manager) => {
      const [known]: unknown[] = await manager.query(`SELECT id FROM food WHERE id = ?`, [foodId]);
      if (!known) throw new ContractException(ErrorCode.FOOD_NOT_FOUND, `Food ${foodId} does not exist`);
      await insertRows(manager, 'packet', 'food_id', new Array(count).fill(foodId));
      // Last: every assign of this food updates its count row, so the lock is held only until the commit.
      await manager.query(`UPDATE packet_count SET total = total + ? WHERE food_id = ?`, [count, foodId]);
      return this.view(manager, foodId);
    });
  }

  async list(): Promise<FoodView[]> {
    const rows: FoodRow[] = await withRetries(() => this.dataSource.query(`${FOOD_VIEW} ORDER BY f.id`));
    return rows.map(toView);
  }

  private async view(manager: EntityManager, foodId: number): Promise<FoodView> {
    const [row]: FoodRow[] = await manager.query(`${FOOD_VIEW} WHERE f.id = ?`, [foodId]);
    return toView(row);
  }
}

function toView(row: FoodRow): FoodView {
  const [total, assigned, reserved] = [Number(row.total), Number(row.assigned), Number(row.reserved)];
  return { id: Number(row.id), name: row.name, packets: { free: total - assigned - reserved, reserved, assigned, total } };
}
