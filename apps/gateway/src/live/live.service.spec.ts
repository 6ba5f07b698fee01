import { RecentOrders } from '@app/contracts';
import { Logger } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { Observable, of, throwError } from 'rxjs';
import { partitionMapOf } from '@app/platform';
import { GatewayEnv } from '../config/gateway.env';
import { Partitions } from '../partitions/partitions';
import { LIVE_REFRESH_MS, LiveService } from './live.service';
import { LiveSnapshot } from './live-snapshot';

describe('LiveService', () => {
  const replies: Record<string, unknown> = {
    'store.store.list': [
      { id: 1, name: 'Default', foods: [{ id: 1, name: 'Idli', packets: { free: 1, reserved: 0, assigned: 0, total: 1 } }] },
    ],
    'delivery.agent.list': [{ storeId: 1, agents: { free: 2, reserved: 0, assigned: 0, total: 2 } }],
    'order.recent': {
      orders: [],
      outcomes: { windowMs: 10_000, placed: 1, notPlaced: 0, pending: 0, stores: [{ storeId: 1, placed: 1, notPlaced: 0, pending: 0 }] },
    },
  };
  let reads: string[];
  let live: LiveService;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(() => {
    jest.useFakeTimers();
    reads = [];
    const client = {
      connect: async () => undefined,
      send: (pattern: string) => {
        reads.push(pattern);
        return replies[pattern] instanceof Observable ? replies[pattern] : of(replies[pattern]);
      },
    } as unknown as ClientProxy;
    const env = new GatewayEnv();
    live = new LiveService(new Partitions(partitionMapOf('', env), env.ORDER_ID_SECRET, () => client), env);
  });
  afterEach(() => jest.useRealTimers());

  it('reads the services only while someone watches, once per refresh for all viewers together', async () => {
    await jest.advanceTimersByTimeAsync(5 * LIVE_REFRESH_MS);
    expect(reads).toEqual([]);

    const first: LiveSnapshot[] = [];
    const second: LiveSnapshot[] = [];
    const a = live.snapshots.subscribe((s) => first.push(s));
    await jest.advanceTimersByTimeAsync(0);
    expect(reads).toHaveLength(3);
    expect(first[0]).toEqual({
      at: expect.any(String),
      stores: replies['store.store.list'],
      agents: replies['delivery.agent.list'],
      outcomes: (replies['order.recent'] as RecentOrders).outcomes,
      orders: [],
      errors: [],
      unavailable: [],
    });

    // A newcomer gets the latest snapshot at once, without a read of its own.
    const b = live.snapshots.subscribe((s) => second.push(s));
    expect(second).toHaveLength(1);
    expect(reads).toHaveLength(3);

    await jest.advanceTimersByTimeAsync(3 * LIVE_REFRESH_MS);
    expect(reads).toHaveLength(4 * 3);
    expect(first).toHaveLength(4);
    expect(second).toHaveLength(4);

    a.unsubscribe();
    b.unsubscribe();
    await jest.advanceTimersByTimeAsync(10 * LIVE_REFRESH_MS);
    expect(reads).toHaveLength(4 * 3);

    const c = live.snapshots.subscribe(() => undefined);
    await jest.advanceTimersByTimeAsync(0);
    expect(reads).toHaveLength(5 * 3);
    c.unsubscribe();
  });

  it('shows what it could read when a service cannot be reached, and says which', async () => {
    replies['delivery.agent.list'] = throwError(() => ({ code: 'SERVICE_UNAVAILABLE', message: 'delivery.agent.list: no reply' }));
    const snapshot = await live.snapshot();
    expect(snapshot.stores).toEqual(replies['store.store.list']);
    expect(snapshot.outcomes).toEqual((replies['order.recent'] as RecentOrders).outcomes);
    expect(snapshot.agents).toBeNull();
    expect(snapshot.errors).toEqual(['delivery.agent.list: no reply']);
    expect(snapshot.unavailable).toEqual(['default']);
  });
});
