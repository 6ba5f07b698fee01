import { createUtcPool } from '@app/database';
import { Pool, RowDataPacket } from 'mysql2/promise';

/**
 * The single-database bound: what a monolith would do for one order, as one local transaction on
 * one database: reserve one free packet and one free agent under SKIP LOCKED, then assign both.
 * Two-phase commit pays its price against this.
 */
export async function measureBound(options: { database: string; packets: number; agents: number; connections: number; seconds: number }) {
  const admin = createUtcPool({ host: '127.0.0.1', user: 'root', password: '', connectionLimit: 1 });
  await admin.query(`DROP DATABASE IF EXISTS \`${options.database}\``);
  await admin.query(`CREATE DATABASE \`${options.database}\``);
  await admin.end();
  const pool = createUtcPool({
    host: '127.0.0.1',
    user: 'root',
    password: '',
    database: options.database,
    connectionLimit: options.connections,
  });
  for (const table of ['packet', 'agent']) {
    await pool.query(`CREATE TABLE ${table} (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      state ENUM('FREE','ASSIGNED') NOT NULL DEFAULT 'FREE',
      order_id CHAR(36) CHARACTER SET ascii NULL,
      UNIQUE KEY uq_order (order_id), KEY idx_state (state)) ENGINE=InnoDB`);
  }
  await fill(pool, 'packet', options.packets);
  await fill(pool, 'agent', options.agents);

  let done = 0;
  const stopAt = Date.now() + options.seconds * 1000;
  const worker = async () => {
    const conn = await pool.getConnection();
    await conn.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
    let n = 0;
    while (Date.now() < stopAt) {
      const orderId = `bound-${process.pid}-${Math.random().toString(36).slice(2)}-${n++}`.slice(0, 36);
      await conn.beginTransaction();
      const [[packet]] = await conn.query<RowDataPacket[]>(`SELECT id FROM packet WHERE state = 'FREE' LIMIT 1 FOR UPDATE SKIP LOCKED`);
      const [[agent]] = await conn.query<RowDataPacket[]>(`SELECT id FROM agent WHERE state = 'FREE' LIMIT 1 FOR UPDATE SKIP LOCKED`);
      if (!packet || !agent) {
        await conn.rollback();
        break;
      }
      await conn.query(`UPDATE packet SET state = 'ASSIGNED', order_id = ? WHERE id = ?`, [orderId, packet.id]);
      await conn.query(`UPDATE agent SET state = 'ASSIGNED', order_id = ? WHERE id = ?`, [orderId, agent.id]);
      await conn.commit();
      done++;
    }
    conn.release();
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: options.connections }, worker));
  const perSec = done / ((Date.now() - started) / 1000);
  await pool.query(`DROP DATABASE \`${options.database}\``);
  await pool.end();
  return { perSec, transactions: done };
}

async function fill(pool: Pool, table: string, rows: number): Promise<void> {
  for (let left = rows; left > 0; left -= 10_000) {
    const n = Math.min(left, 10_000);
    await pool.query(`INSERT INTO ${table} (state) VALUES ${"('FREE'),".repeat(n - 1)}('FREE')`);
  }
}
