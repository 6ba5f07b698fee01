import { DeliveryPattern, OrderPattern, Queue, RecentOrders, StoreAgents, StorePattern, StoreStock } from '@app/contracts';
import { call, clientToken } from '@app/platform';
import { BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { Observable, ReplaySubject, Subject, defer, exhaustMap, finalize, share, takeUntil, timer } from 'rxjs';
import { GatewayEnv } from '../config/gateway.env';
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
    @Inject(clientToken(Queue.STORE_ADMIN)) private readonly store: ClientProxy,
    @Inject(clientToken(Queue.DELIVERY_ADMIN)) private readonly delivery: ClientProxy,
    @Inject(clientToken(Queue.ORDER)) private readonly orders: ClientProxy,
    private readonly env: GatewayEnv,
  ) {}

  beforeApplicationShutdown(): void {
    this.stopping.next();
  }

  async snapshot(): Promise<LiveSnapshot> {
    const errors: string[] = [];
    const read = <T>(client: ClientProxy, pattern: string, data: unknown): Promise<T | null> =>
      call<T>(client, pattern, data, this.env.RPC_TIMEOUT_MS, { expire: true }).catch((err: Error) => {
        errors.push(err.message);
        return null;
      });
    // What GET /stores reads (the stores' stock, their agents), and the orders of every store.
    const [stores, agents, recent] = await Promise.all([
      read<StoreStock[]>(this.store, StorePattern.LIST_STORES, {}),
      read<StoreAgents[]>(this.delivery, DeliveryPattern.LIST_AGENTS, {}),
      read<RecentOrders>(this.orders, OrderPattern.RECENT_ORDERS, { limit: LIVE_RECENT_ORDERS, windowMs: LIVE_RATE_WINDOW_MS }),
    ]);
    return {
      at: new Date().toISOString(),
      stores,
      agents,
      outcomes: recent?.outcomes ?? null,
      orders: recent?.orders ?? null,
      errors,
    };
  }
}
