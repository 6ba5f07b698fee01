import { MetricValue, register } from 'prom-client';

/** The sum of the batch_size histogram at `hop` per committed transaction: the orders its batches carried so far. */
export async function ordersCommitted(hop: string): Promise<number> {
  const metric = await register.getSingleMetric('batch_size')?.get();
  const sum = (metric?.values as (MetricValue<string> & { metricName?: string })[] | undefined)?.find(
    (value) => value.metricName === 'batch_size_sum' && value.labels.hop === hop && value.labels.unit === 'transaction',
  );
  return sum?.value ?? 0;
}
