import { DataSource } from 'typeorm';
import { MysqlQueryRunner } from 'typeorm/driver/mysql/MysqlQueryRunner';
import { withRetries } from './database';

/** One statement, whole, with the values of its placeholders in order. */
export type Statement = [sql: string, params?: unknown[]];

/** What runs statements one at a time and answers each result: a transaction (Tx) or TypeORM's manager. */
export interface Queryable {
  // `any`, as TypeORM's EntityManager.query answers: the caller names the row type it reads.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  query<T = any>(sql: string, params?: unknown[]): Promise<T>;
}

/**
 * The statements of one transaction, sent in as few round trips as their results allow. Each
 * round trip is one multi-statement message (mysql2's multipleStatements): BEGIN goes with the
 * first statement, a statement whose result nobody reads (`defer`) goes with the next one or with
 * COMMIT, and statements that do not depend on each other go together (`queryAll`). The server runs
 * them in the order they were issued, exactly as if each were sent alone, and stops at the first
 * that fails. On this machine a round trip costs each side a socket write and a wake-up, more CPU
 * than most statements do. A failed round trip that carried deferred statements fails the whole
 * transaction, even if the work catches the error: a caller cannot tell which statement failed, so
 * committing what ran would commit work without the deferred writes it asked for.
 */
export interface Tx extends Queryable {
  /** Runs the statements in one round trip (after whatever was deferred) and answers their results in order. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  queryAll(statements: Statement[]): Promise<any[]>;
  /** Queues a statement whose result is not read: it runs before the next query, or with COMMIT. */
  defer(sql: string, params?: unknown[]): void;
}

/**
 * One transaction (READ COMMITTED, as every session of the services runs: see database.ts), with
 * retries (withRetries): `work` runs again from the start after a deadlock or a dropped connection.
 * An error out of `work` (a failed statement among them) rolls the whole transaction back; nothing
 * deferred after a failed statement runs.
 */
export function transaction<T>(dataSource: DataSource, work: (tx: Tx) => Promise<T>): Promise<T> {
  return withRetries(async () => {
    const tx = new PipelinedTx(dataSource.createQueryRunner() as MysqlQueryRunner);
    try {
      const result = await work(tx);
      await tx.commit();
      return result;
    } catch (err) {
      await tx.rollback();
      throw err;
    } finally {
      await tx.release();
    }
  });
}

class PipelinedTx implements Tx {
  private pending: Statement[] = [['START TRANSACTION']];
  /** START TRANSACTION has been sent (maybe in a round trip that failed): the session may be in a transaction. */
  private begun = false;
  /** The error of a round trip that carried deferred statements: the transaction can only roll back. */
  private failed: unknown;

  constructor(private readonly runner: MysqlQueryRunner) {}

  async query<T>(sql: string, params?: unknown[]): Promise<T> {
    const [result] = await this.queryAll([[sql, params]]);
    return result as T;
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async queryAll(statements: Statement[]): Promise<any[]> {
    if (this.failed) throw this.failed;
    if (statements.length === 0) return [];
    const batch = [...this.pending, ...statements];
    // Before the first round trip the one pending statement not deferred by the work is START TRANSACTION.
    const deferred = this.pending.length > (this.begun ? 0 : 1);
    this.pending = [];
    this.begun = true;
    let raw: unknown;
    try {
      // mysql2 fills the placeholders of the joined text in order, so the values join in the same
      // order. The separator on a line of its own, so no statement's last line can swallow it.
      raw = await this.runner.query(
        batch.map(([sql]) => sql).join('\n;\n'),
        batch.flatMap(([, params = []]) => params),
      );
    } catch (err) {
      if (deferred) this.failed = err;
      throw err;
    }
    // One statement answers its result; several answer an array of results, one per statement.
    const results = batch.length === 1 ? [raw] : (raw as unknown[]);
    return results.slice(results.length - statements.length);
  }

  defer(sql: string, params?: unknown[]): void {
    this.pending.push([sql, params]);
  }

  async commit(): Promise<void> {
    // A unit of work that sent nothing has nothing to commit.
    if (this.begun || this.pending.length > 1) await this.queryAll([['COMMIT']]);
  }

  async rollback(): Promise<void> {
    this.pending = [];
    if (!this.begun) return;
    try {
      await this.runner.query('ROLLBACK');
    } catch {
      // A session that may still be inside the transaction never goes back to the pool: the next
      // START TRANSACTION on it would commit what this one left.
      const connection: unknown = await this.runner.connect().catch(() => undefined);
      (connection as { destroy?: () => void } | undefined)?.destroy?.();
    }
  }

  release(): Promise<void> {
    return this.runner.release();
  }
}
