import {
  DeliveryPattern,
  OrderOutcomes,
  OrderPattern,
  Queue,
  QueueName,
  RecentOrders,
  StoreAgents,
  StorePattern,
  StoreStock,
} from '@app/contracts';
import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { Observable, ReplaySubject, Subject, defer, exhaustMap, finalize, share, takeUntil, timer } from 'rxjs';
import { GatewayEnv } from '../config/gateway.env';
import { PartitionRoute, Partitions } from '../partitions/partitions';
import { LiveSnapshot } from './live-snapshot';

export const LIVE_REFRESH_MS = 1_000;
export const LIVE_RECENT_ORDERS = 12;
/** Orders per second are counted over this window: long enough to be steady, short enough to follow the load. */
export const LIVE_RATE_WINDOW_MS = 10_000;

@Injectable()
export class LiveService implements BeforeApplicationShutdown {
  private readonly logger = new Logger(LiveService.name);
  private readonly stopping = new Subject<void>();

  /**
   * One read of the services per second, shared by every viewer, and only while someone watches:
   * the timer starts with the first subscriber and stops with the last. A newcomer gets the latest
   * snapshot at once. A read slower than the interval skips ticks instead of piling up. On shutdown
   * every stream ends, or the HTTP server would wait for them forever.
   */
  readonly snapshots: Observable<LiveSnapshot> = defer(() => {
    this.logger.log('First viewer: reading the services every second');
    return timer(0, LIVE_REFRESH_MS).pipe(
      exhaustMap(() => this.snapshot()),
      takeUntil(this.stopping),
      finalize(() => this.logger.log('No viewer left: stopped reading the services')),
    );
  }).pipe(share({ connector: () => new ReplaySubject<LiveSnapshot>(1), resetOnRefCountZero: true }));

  constructor(
    private readonly partitions: Partitions,
    private readonly env: GatewayEnv,
  ) {}

  beforeApplicationShutdown(): void {
    this.stopping.next();
  }

  /**
   * Every partition read at once and merged: each part (stores, agents, orders) holds what the
   * partitions that answered said, and is null only when none did; `unavailable` names the
   * partitions with a part missing.
   */
  async snapshot(): Promise<LiveSnapshot> {
    const errors: string[] = [];
    const unavailable = new Set<string>();
    const reads = await Promise.all(
      this.partitions.all.map((route) => {
        const read = <T>(queue: QueueName, pattern: string, data: unknown): Promise<T | null> =>
          route.call<T>(queue, pattern, data, this.env.RPC_TIMEOUT_MS, { expire: true }).catch((err: Error) => {
            errors.push(this.partitions.configured ? `partition ${route.name}: ${err.message}` : err.message);
            unavailable.add(route.name);
            return null;
          });
        return this.read(route, read);
      }),
    );
    const answered = <T>(parts: (T | null)[]): T[] | null => (parts.some((part) => part !== null) ? parts.filter((p) => p !== null) : null);
    const stores = answered(reads.map((r) => r.stores));
    const agents = answered(reads.map((r) => r.agents));
    const recent = answered(reads.map((r) => r.recent));
    return {
      at: new Date().toISOString(),
      stores: stores && stores.flat().sort((a, b) => a.id - b.id),
      agents: agents && agents.flat(),
      outcomes: recent && mergeOutcomes(recent.map((r) => r.outcomes)),
      orders:
        recent && (recent.length === 1 ? recent[0].orders : newestFirst(recent.flatMap((r) => r.orders)).slice(0, LIVE_RECENT_ORDERS)),
      errors,
      unavailable: [...unavailable],
    };
  }

  /** What GET /stores reads of one partition (its stores' stock, their agents), and its orders. */
  private async read(
    route: PartitionRoute,
    read: <T>(queue: QueueName, pattern: string, data: unknown) => Promise<T | null>,
  ): Promise<{ stores: StoreStock[] | null; agents: StoreAgents[] | null; recent: RecentOrders | null }> {
    const [stores, agents, recent] = await Promise.all([
      read<StoreStock[]>(Queue.STORE_ADMIN, StorePattern.LIST_STORES, {}),
      read<StoreAgents[]>(Queue.DELIVERY_ADMIN, DeliveryPattern.LIST_AGENTS, {}),
      read<RecentOrders>(Queue.ORDER, OrderPattern.RECENT_ORDERS, { limit: LIVE_RECENT_ORDERS, windowMs: LIVE_RATE_WINDOW_MS }),
    ]);
    return { stores, agents, recent };
  }
}

/** The outcome counts of every partition together: no store is in two partitions, so the per-store counts only join. */
function mergeOutcomes(parts: OrderOutcomes[]): OrderOutcomes {
  const [first, ...rest] = parts;
  return rest.reduce(
    (all, part) => ({
      windowMs: all.windowMs,
      placed: all.placed + part.placed,
      notPlaced: all.notPlaced + part.notPlaced,
      pending: all.pending + part.pending,
      stores: [...all.stores, ...part.stores].sort((a, b) => a.storeId - b.storeId),
    }),
    first,
  );
}

/** Order ids are UUIDv7: the minting time leads, in fixed-width hex, so the newest id sorts last. */
function newestFirst<T extends { orderId: string }>(orders: T[]): T[] {
  return [...orders].sort((a, b) => b.orderId.localeCompare(a.orderId));
}
