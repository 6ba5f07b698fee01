import { RowDataPacket } from 'mysql2/promise';
import { TestSystem } from './harness';

/**
 * A checksum of every table of the three services' databases: two equal snapshots mean no row
 * was added, removed or changed in between.
 */
export async function snapshotDatabases(t: TestSystem): Promise<Record<string, string>> {
  const databases = [t.env.STORE_DB_NAME, t.env.DELIVERY_DB_NAME, t.env.ORDER_DB_NAME];
  const tables = await t.query<RowDataPacket>(
    'SELECT CONCAT(TABLE_SCHEMA, ".", TABLE_NAME) AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA IN (?) ORDER BY name',
    [databases],
  );
  const names = tables.map((row) => `\`${String(row.name).replace('.', '`.`')}\``);
  const sums = await t.query<RowDataPacket>(`CHECKSUM TABLE ${names.join(', ')}`);
  return Object.fromEntries(sums.map((row) => [row.Table as string, String(row.Checksum)]));
}
