import { observeBatch } from '@app/platform';
import { register } from 'prom-client';
import { batchSizesBetween, parseBatchSizes } from './batches';

/** The batch sizes read from the Prometheus text the services really serve (prom-client's, with their default `app` label). */
describe('batch sizes from /metrics', () => {
  beforeAll(() => register.setDefaultLabels({ app: 'order' }));
  afterAll(() => register.setDefaultLabels({}));

  const snapshot = async () => new Map(parseBatchSizes('order', await register.metrics()).map((s) => [`${s.hop}/${s.unit}`, s]));

  it('counts only the batches between the two readings, with their mean and the p99 bucket', async () => {
    for (let i = 0; i < 50; i++) observeBatch('order.place', 'message', 30); // warm-up: not counted
    const before = await snapshot();
    for (let i = 0; i < 98; i++) observeBatch('order.place', 'message', 1);
    observeBatch('order.place', 'message', 5);
    observeBatch('order.place', 'message', 14);
    observeBatch('store.reserve', 'transaction', 7);

    const rows = batchSizesBetween(before, await snapshot());

    expect(rows).toEqual([
      { service: 'order', hop: 'order.place', unit: 'message', count: 100, mean: 1.17, p99: 6 },
      { service: 'order', hop: 'store.reserve', unit: 'transaction', count: 1, mean: 7, p99: 8 },
    ]);
  });

  it('answers no row for a series without batches in between, nor for a service without the histogram', async () => {
    const now = await snapshot();
    expect(batchSizesBetween(now, now)).toEqual([]);
    expect(parseBatchSizes('gateway', '# HELP batch_size Orders per batch\n# TYPE batch_size histogram\nup 1\n')).toEqual([]);
  });

  it('answers no p99 bound when the 99th percentile lies past the last bucket', async () => {
    const before = await snapshot();
    observeBatch('delivery.assign', 'transaction', 1000);
    const [row] = batchSizesBetween(before, await snapshot());
    expect(row).toMatchObject({ hop: 'delivery.assign', count: 1, mean: 1000, p99: null });
  });
});
