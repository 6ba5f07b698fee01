import { Partition } from '@app/platform';

/**
 * `npm start -- --partitions N`: N partitions on this machine (docs/partitions.md). The first keeps
 * the queues and databases of a system without partitions (QUEUE_PREFIX, ORDER_DB_NAME, ...);
 * partition i adds `pi.` to the queue prefix and `_pi` to each database's name, owns the store ids
 * from (i-1) million, and serves its services' /metrics 100 ports above the first's.
 */
export function localPartitions(count: number, env: NodeJS.ProcessEnv): Partition[] {
  const prefix = env.QUEUE_PREFIX ?? '';
  return Array.from({ length: count }, (_, i) => {
    const suffix = i === 0 ? '' : `_p${i + 1}`;
    return {
      name: `p${i + 1}`,
      queuePrefix: i === 0 ? prefix : `${prefix}p${i + 1}.`,
      stores: { from: Math.max(1, i * PARTITION_STORES), to: (i + 1) * PARTITION_STORES - 1 },
      databases: {
        order: `${env.ORDER_DB_NAME || 'orders'}${suffix}`,
        store: `${env.STORE_DB_NAME || 'store'}${suffix}`,
        delivery: `${env.DELIVERY_DB_NAME || 'delivery'}${suffix}`,
      },
    };
  });
}

const PARTITION_STORES = 1_000_000;

/** `--partitions N` of the command line, or PARTITIONS; 0 (none given): no partition map. */
export function partitionCount(): number {
  const at = process.argv.indexOf('--partitions');
  const value = at >= 0 ? process.argv[at + 1] : (process.env.PARTITIONS ?? '0');
  const count = Number(value);
  if (!Number.isInteger(count) || count < 0 || count > 9)
    throw new Error(`--partitions must be a whole number from 0 (none) to 9, not ${JSON.stringify(value)}`);
  return count;
}
