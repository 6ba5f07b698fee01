import { DEFAULT_STORE_ID, MAX_ID, PARTITION_NAME } from '@app/contracts';
import { existsSync, readFileSync } from 'node:fs';

/**
 * One partition of PARTITION_MAP: a complete set of order, store and delivery services with their
 * own queues (queuePrefix) and databases, owning the dark stores whose ids lie in `stores`. An
 * order only ever touches the rows of its store, so nothing of it crosses partitions.
 */
export interface Partition {
  name: string;
  queuePrefix: string;
  /** The store ids it owns, both ends included; its store service allocates new ids in this range. */
  stores: { from: number; to: number };
  databases: { order: string; store: string; delivery: string };
}

/** The partitions of a deployment; without PARTITION_MAP, one partition named `default` owns every store id. */
export class PartitionMap {
  constructor(
    readonly partitions: readonly Partition[],
    /** False for the one partition made from the plain settings when no map is configured. */
    readonly configured: boolean,
  ) {}

  /** The partition that owns DEFAULT_STORE_ID, and with it every order id minted before partitions. */
  get default(): Partition {
    return this.ofStore(DEFAULT_STORE_ID)!;
  }

  ofStore(storeId: number): Partition | undefined {
    return this.partitions.find(({ stores }) => storeId >= stores.from && storeId <= stores.to);
  }

  named(name: string): Partition | undefined {
    return this.partitions.find((partition) => partition.name === name);
  }

  get names(): string[] {
    return this.partitions.map((partition) => partition.name);
  }
}

/** The name of the one partition of a system without PARTITION_MAP. */
export const SINGLE_PARTITION = 'default';

/** The map of `source` (PARTITION_MAP: a file's path, or the JSON itself), or the one partition the plain settings describe. */
export function partitionMapOf(
  source: string,
  single: { QUEUE_PREFIX: string; ORDER_DB_NAME?: string; STORE_DB_NAME?: string; DELIVERY_DB_NAME?: string },
): PartitionMap {
  if (source) return new PartitionMap(parsePartitionMap(source), true);
  const databases = {
    order: single.ORDER_DB_NAME ?? 'orders',
    store: single.STORE_DB_NAME ?? 'store',
    delivery: single.DELIVERY_DB_NAME ?? 'delivery',
  };
  return new PartitionMap(
    [{ name: SINGLE_PARTITION, queuePrefix: single.QUEUE_PREFIX, stores: { from: 1, to: MAX_ID }, databases }],
    false,
  );
}

/**
 * Reads and validates PARTITION_MAP: `{ "partitions": [{ name, queuePrefix, stores: { from, to },
 * databases: { order, store, delivery } }, ...] }`, inline or in a file. Throws one error naming
 * every problem: names, prefixes and databases must be distinct, ranges must not overlap, and
 * exactly one partition owns the default dark store (id 1).
 */
export function parsePartitionMap(source: string): Partition[] {
  const text = source.trimStart().startsWith('{') ? source : readMapFile(source);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`PARTITION_MAP is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  const list = (parsed as { partitions?: unknown })?.partitions;
  if (!Array.isArray(list) || list.length === 0) throw new Error('PARTITION_MAP must be {"partitions": [...]} with at least one partition');
  const problems: string[] = [];
  const partitions = list.map((entry, i) => checkedPartition(entry, i, problems));
  if (problems.length === 0) problems.push(...overlaps(partitions));
  if (problems.length === 0 && !partitions.some(({ stores }) => DEFAULT_STORE_ID >= stores.from && DEFAULT_STORE_ID <= stores.to)) {
    problems.push(`no partition owns the default dark store (id ${DEFAULT_STORE_ID}): one range must start at ${DEFAULT_STORE_ID}`);
  }
  if (problems.length > 0) throw new Error(`PARTITION_MAP is invalid:\n    ${problems.join('\n    ')}`);
  return partitions;
}

function readMapFile(path: string): string {
  if (!existsSync(path)) throw new Error(`PARTITION_MAP: no file ${JSON.stringify(path)} (give a file's path or the JSON itself)`);
  return readFileSync(path, 'utf8');
}

const QUEUE_PREFIX = /^[A-Za-z0-9_.-]*$/;
const DB_NAME = /^[A-Za-z0-9_]{1,64}$/;

function checkedPartition(entry: unknown, i: number, problems: string[]): Partition {
  const p = (entry ?? {}) as Record<string, unknown>;
  const where = `partitions[${i}]${typeof p.name === 'string' ? ` (${p.name})` : ''}`;
  const problem = (what: string) => problems.push(`${where}: ${what}`);
  if (typeof p.name !== 'string' || !PARTITION_NAME.test(p.name)) problem('name must be 1 to 32 letters, digits, _ or -');
  if (typeof p.queuePrefix !== 'string' || !QUEUE_PREFIX.test(p.queuePrefix))
    problem('queuePrefix must be letters, digits, _ . and - only');
  const stores = (p.stores ?? {}) as Record<string, unknown>;
  const isId = (v: unknown) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= MAX_ID;
  if (!isId(stores.from) || !isId(stores.to) || (stores.from as number) > (stores.to as number)) {
    problem(`stores must be {"from", "to"}: whole numbers, 1 <= from <= to <= ${MAX_ID}`);
  }
  const databases = (p.databases ?? {}) as Record<string, unknown>;
  for (const db of ['order', 'store', 'delivery']) {
    if (typeof databases[db] !== 'string' || !DB_NAME.test(databases[db]))
      problem(`databases.${db} must be a database name (letters, digits, _)`);
  }
  return p as unknown as Partition;
}

/** Names, queue prefixes and databases each used once; ranges that do not overlap. */
function overlaps(partitions: Partition[]): string[] {
  const problems: string[] = [];
  const once = (what: string, values: string[]) => {
    const seen = new Set<string>();
    for (const value of values) {
      if (seen.has(value)) problems.push(`${what} ${JSON.stringify(value)} is used by two partitions`);
      seen.add(value);
    }
  };
  once(
    'name',
    partitions.map((p) => p.name),
  );
  once(
    'queuePrefix',
    partitions.map((p) => p.queuePrefix),
  );
  once(
    'database',
    partitions.flatMap((p) => [p.databases.order, p.databases.store, p.databases.delivery]),
  );
  const sorted = [...partitions].sort((a, b) => a.stores.from - b.stores.from);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].stores.from <= sorted[i - 1].stores.to) {
      problems.push(`the store ranges of ${sorted[i - 1].name} and ${sorted[i].name} overlap`);
    }
  }
  return problems;
}

/**
 * What PARTITION=<name> sets in a service's environment: its queue prefix, its database and, for the
 * store service, its range of store ids. The service's env class takes those it has.
 */
export function partitionSettings(partition: Partition): Record<string, string> {
  return {
    QUEUE_PREFIX: partition.queuePrefix,
    ORDER_DB_NAME: partition.databases.order,
    STORE_DB_NAME: partition.databases.store,
    DELIVERY_DB_NAME: partition.databases.delivery,
    STORE_IDS_FROM: String(partition.stores.from),
    STORE_IDS_TO: String(partition.stores.to),
  };
}
