/**
 * Batch sizes from the services' Prometheus metrics: the `batch_size` histogram (labels `hop` and
 * `unit`, "message" or "transaction") of every service, read before and after a run and subtracted,
 * so that only the run counts. A service that cannot be reached, or has no such series (no hop of
 * its batches yet), adds no row.
 */

/** The orders per message or per transaction of one hop of one service during a run. */
export interface BatchSizes {
  service: string;
  hop: string;
  unit: string;
  /** Messages sent, or transactions committed. */
  count: number;
  /** Orders per message or transaction: the histogram's sum over its count. */
  mean: number;
  /** The upper bound of the bucket where the cumulative count reaches 99%; null past the last bucket. */
  p99: number | null;
}

interface Series {
  service: string;
  hop: string;
  unit: string;
  sum: number;
  count: number;
  /** Cumulative counts by upper bound (`le`), +Inf included. */
  buckets: Map<number, number>;
}

/** Every batch_size series of every service, by service, hop and unit. */
export type BatchSnapshot = Map<string, Series>;

/** Reads `/metrics` of each service (name to URL) at once. */
export async function scrapeBatchSizes(endpoints: Record<string, string>): Promise<BatchSnapshot> {
  const snapshot: BatchSnapshot = new Map();
  await Promise.all(
    Object.entries(endpoints).map(async ([service, url]) => {
      let text: string;
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
        if (!res.ok) throw new Error(`${res.status}`);
        text = await res.text();
      } catch (err) {
        console.warn(`  no batch sizes from ${service}: ${url}: ${(err as Error).message}`);
        return;
      }
      for (const series of parseBatchSizes(service, text)) snapshot.set(keyOf(series), series);
    }),
  );
  return snapshot;
}

/** The batches of the run between two snapshots, per service, hop and unit; series with no batch in between are left out. */
export function batchSizesBetween(before: BatchSnapshot, after: BatchSnapshot): BatchSizes[] {
  const rows: BatchSizes[] = [];
  for (const [key, end] of after) {
    const start = before.get(key);
    const count = end.count - (start?.count ?? 0);
    if (count <= 0) continue;
    const sum = end.sum - (start?.sum ?? 0);
    const bounds = [...end.buckets.keys()].sort((a, b) => a - b);
    const p99Bound = bounds.find((le) => end.buckets.get(le)! - (start?.buckets.get(le) ?? 0) >= 0.99 * count);
    rows.push({
      service: end.service,
      hop: end.hop,
      unit: end.unit,
      count,
      mean: Math.round((sum / count) * 100) / 100,
      p99: p99Bound === undefined || p99Bound === Infinity ? null : p99Bound,
    });
  }
  return rows.sort((a, b) => a.service.localeCompare(b.service) || a.hop.localeCompare(b.hop) || a.unit.localeCompare(b.unit));
}

/** The batch_size series of one service's Prometheus text: `batch_size_bucket{…,le="4"} 12`, `batch_size_sum{…} 30`, `batch_size_count{…} 12`. */
export function parseBatchSizes(service: string, text: string): Series[] {
  const series = new Map<string, Series>();
  for (const line of text.split('\n')) {
    const match = /^batch_size_(bucket|sum|count)\{(.*)\}\s+(\S+)$/.exec(line.trim());
    if (!match) continue;
    const [, kind, labelText, valueText] = match;
    const labels = Object.fromEntries([...labelText.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, name, value]) => [name, value]));
    const entry: Series = { service, hop: labels.hop ?? '', unit: labels.unit ?? '', sum: 0, count: 0, buckets: new Map() };
    const one = series.get(keyOf(entry)) ?? entry;
    series.set(keyOf(one), one);
    const value = Number(valueText);
    if (kind === 'sum') one.sum = value;
    else if (kind === 'count') one.count = value;
    else one.buckets.set(labels.le === '+Inf' ? Infinity : Number(labels.le), value);
  }
  return [...series.values()];
}

function keyOf({ service, hop, unit }: { service: string; hop: string; unit: string }): string {
  return `${service}\0${hop}\0${unit}`;
}
