import {
  orderIdFloor,
  OrderOutcomes,
  OrderState,
  OutcomeCounts,
  outcomeOf,
  RecentOrders,
  RecentOrdersDto,
  StoreOutcomes,
} from '@app/contracts';
import { withRetries } from '@app/database';
import { Injectable } from '@nestjs/common';
import { DataSource, In } from 'typeorm';
import { toView } from '../orders/order-journal.service';
import { OrderLog } from '../orders/order-log.entity';
import { Order } from '../orders/order.entity';

/**
 * What the gateway's live page shows: the latest orders, and how the orders of a window turned out,
 * in all and per dark store. Read-only and cheap at any table size: order ids are UUIDv7,
 * so "latest" and "minted in the window" are ranges of the primary key, and each order's log comes
 * from idx_order_log_order.
 */
@Injectable()
export class ActivityService {
  constructor(private readonly dataSource: DataSource) {}

  async recent({ limit, windowMs }: RecentOrdersDto): Promise<RecentOrders> {
    const [orders, outcomes] = await Promise.all([withRetries(() => this.latest(limit)), withRetries(() => this.outcomes(windowMs))]);
    return { orders, outcomes };
  }

  private async latest(limit: number) {
    const orders = await this.dataSource.getRepository(Order).find({ order: { id: 'DESC' }, take: limit });
    if (orders.length === 0) return [];
    const entries = await this.dataSource
      .getRepository(OrderLog)
      .find({ where: { orderId: In(orders.map((o) => o.id)) }, order: { orderId: 'ASC', id: 'ASC' } });
    return orders.map((order) => ({
      ...toView(order),
      log: entries.filter((e) => e.orderId === order.id).map((e) => ({ state: e.state, detail: e.detail, at: e.createdAt.toISOString() })),
    }));
  }

  /** The window's orders by outcome, in all and per dark store: one range of the primary key, grouped. */
  private async outcomes(windowMs: number): Promise<OrderOutcomes> {
    const rows: { storeId: number | null; state: OrderState; n: string }[] = await this.dataSource
      .getRepository(Order)
      .createQueryBuilder('o')
      .select('o.store_id', 'storeId')
      .addSelect('o.state', 'state')
      .addSelect('COUNT(*)', 'n')
      .where('o.id >= :floor', { floor: orderIdFloor(Date.now() - windowMs) })
      .groupBy('o.store_id')
      .addGroupBy('o.state')
      .getRawMany();
    const outcomes: OrderOutcomes = { windowMs, ...noOutcomes(), stores: [] };
    const stores = new Map<number, StoreOutcomes>();
    for (const { storeId, state, n } of rows) {
      const outcome = outcomeOf(state);
      const kind = outcome === 'placed' ? 'placed' : outcome === 'not-placed' ? 'notPlaced' : 'pending';
      outcomes[kind] += Number(n);
      // An order whose command never arrived has no store: it counts in the totals only.
      if (storeId === null) continue;
      const store = stores.get(Number(storeId)) ?? { storeId: Number(storeId), ...noOutcomes() };
      stores.set(store.storeId, store);
      store[kind] += Number(n);
    }
    outcomes.stores = [...stores.values()].sort((a, b) => a.storeId - b.storeId);
    return outcomes;
  }
}

function noOutcomes(): OutcomeCounts {
  return { placed: 0, notPlaced: 0, pending: 0 };
}
