import { CartLine, ErrorCode } from '@app/contracts';
import { ConflictException, Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Pool, PoolConnection, RowDataPacket } from 'mysql2/promise';
import { v7 } from 'uuid';

export const POOL = Symbol('POOL');

export interface PlacedOrder {
  orderId: string;
  state: 'PLACED';
  message: string;
  storeId: number;
  items: (CartLine & { packetIds: number[] })[];
  agentId: number;
}

/** MariaDB's answers to a transaction that lost a lock race: it rolled back and may simply run again. */
const RETRIED = new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT']);
const TRIES = 3;

@Injectable()
export class OrdersService implements OnApplicationShutdown {
  constructor(@Inject(POOL) private readonly pool: Pool) {}

  onApplicationShutdown(): Promise<void> {
    return this.pool.end();
  }

  /** One transaction per order: every packet of the cart and one agent of its store, or nothing. */
  async place(storeId: number, lines: CartLine[]): Promise<PlacedOrder> {
    for (let attempt = 1; ; attempt++) {
      const connection = await this.pool.getConnection();
      try {
        return await this.placeIn(connection, storeId, lines);
      } catch (err) {
        if (attempt === TRIES || !RETRIED.has((err as { code?: string }).code ?? '')) throw err;
      } finally {
        connection.release();
      }
    }
  }

  private async placeIn(connection: PoolConnection, storeId: number, lines: CartLine[]): Promise<PlacedOrder> {
    const orderId = v7();
    await connection.beginTransaction();
    try {
      const items: PlacedOrder['items'] = [];
      for (const { foodId, quantity } of lines) {
        // Free packets of the line, skipping those another order holds: it is this order's if it commits.
        const [packets] = await connection.query<RowDataPacket[]>(
          'SELECT id FROM packet WHERE store_id = ? AND food_id = ? AND order_id IS NULL LIMIT ? FOR UPDATE SKIP LOCKED',
          [storeId, foodId, quantity],
        );
        if (packets.length < quantity) throw refusal(ErrorCode.OUT_OF_STOCK, `Not enough packets of food ${foodId} in store ${storeId}`);
        items.push({ foodId, quantity, packetIds: packets.map((packet) => Number(packet.id)) });
      }
      const [[agent]] = await connection.query<RowDataPacket[]>(
        'SELECT id FROM agent WHERE store_id = ? AND order_id IS NULL LIMIT 1 FOR UPDATE SKIP LOCKED',
        [storeId],
      );
      if (!agent) throw refusal(ErrorCode.NO_AGENT, `No free agent in store ${storeId}`);
      const agentId = Number(agent.id);
      await connection.query('UPDATE packet SET order_id = ? WHERE id IN (?)', [orderId, items.flatMap((item) => item.packetIds)]);
      await connection.query('UPDATE agent SET order_id = ? WHERE id = ?', [orderId, agentId]);
      await connection.query('INSERT INTO orders (id, store_id, agent_id, items) VALUES (?, ?, ?, ?)', [
        orderId,
        storeId,
        agentId,
        JSON.stringify(items),
      ]);
      await connection.commit();
      return { orderId, state: 'PLACED', message: 'Order Placed', storeId, items, agentId };
    } catch (err) {
      await connection.rollback();
      throw err;
    }
  }
}

function refusal(code: ErrorCode, message: string): ConflictException {
  return new ConflictException({ code, message });
}
