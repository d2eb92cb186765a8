import { InvalidStreamOffsetError, type OffsetStore } from '@warren/core';
import type { Pool } from 'pg';
import { resolveTables } from './tables';

/** Options of {@link PostgresOffsetStore}. */
export interface PostgresOffsetStoreOptions {
  pool: Pool;
  /** Default `warren_offsets` (created by `applySchema`). */
  offsetTable?: string;
}

/**
 * Stream consumers' offsets in PostgreSQL: one row per consumer name, written with an upsert each
 * time Warren stores an offset (every `offsetCommit.every` messages, or `intervalMs` after the
 * first unstored one). A restarted service resumes each stream consumer right after its row.
 *
 * The table comes from `applySchema(pool)` (`sql/schema.sql`). To read a stream again from an
 * earlier point for good, stop the consumer and update or delete its row; to read it again once,
 * use `warren replay`, which leaves the row alone.
 *
 * @example
 * ```ts
 * const pool = new Pool({ connectionString: process.env.DATABASE_URL });
 * await applySchema(pool);
 * await Warren.start({ handlers: [AuditLog], offsetStore: new PostgresOffsetStore({ pool }) });
 * ```
 */
export class PostgresOffsetStore implements OffsetStore {
  private readonly table: string;

  constructor(private readonly options: PostgresOffsetStoreOptions) {
    this.table = resolveTables({ offsetTable: options.offsetTable }).offsets.sql;
  }

  async load(consumer: string): Promise<number | undefined> {
    const result = await this.options.pool.query<{ stream_offset: string }>(`SELECT stream_offset FROM ${this.table} WHERE consumer = $1`, [consumer]);
    const row = result.rows[0];
    if (!row) return undefined;
    // bigint arrives as text; a value past 2^53 - 1 cannot be an offset Warren handed over.
    const offset = Number(row.stream_offset);
    if (!Number.isSafeInteger(offset) || offset < 0) throw new InvalidStreamOffsetError(`The offset stored for "${consumer}" in ${this.table} is ${row.stream_offset}, not a whole number from 0 to 2^53 - 1.`);
    return offset;
  }

  async save(consumer: string, offset: number): Promise<void> {
    await this.options.pool.query(
      `INSERT INTO ${this.table} (consumer, stream_offset) VALUES ($1, $2)
       ON CONFLICT (consumer) DO UPDATE SET stream_offset = EXCLUDED.stream_offset, updated_at = now()`,
      [consumer, offset],
    );
  }
}
