import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Pool } from 'pg';
import { ignoreIdleError } from './outbox';
import { quoteIdent, resolveTables, type QuotedTable, type TableNames } from './tables';

/** The SQL file shipped with the package (`sql/schema.sql`), with its `{{…}}` placeholders. */
export const SCHEMA_FILE = join(__dirname, '..', '..', 'sql', 'schema.sql');

/**
 * The schema SQL for the given table names: `sql/schema.sql` with its placeholders filled in. Run it
 * yourself (a migration tool, `psql`) or let {@link applySchema} do it.
 *
 * @example
 * ```ts
 * writeFileSync('migrations/001_warren.sql', renderSchema({ outboxTable: 'orders.outbox' }));
 * ```
 */
export function renderSchema(names: TableNames = {}): string {
  const tables = resolveTables(names);
  return readFileSync(SCHEMA_FILE, 'utf8').replace(/\{\{(outbox|inbox|offsets)(?::(\w+))?\}\}/g, (_, table: 'outbox' | 'inbox' | 'offsets', index?: string) => {
    const quoted: QuotedTable = tables[table];
    if (index === undefined) return quoted.sql;
    // Indexes live in their table's schema, so only the bare name is given.
    return quoteIdent(`${quoted.bare}_${index}`);
  });
}

/**
 * Creates or migrates the outbox, inbox and offset tables and their indexes. Idempotent: call it at every
 * start. Instances starting together wait on one advisory lock, so none sees a half-made schema.
 *
 * @example
 * ```ts
 * const pool = new Pool({ connectionString: process.env.DATABASE_URL });
 * await applySchema(pool);
 * ```
 */
export async function applySchema(pool: Pool, names: TableNames = {}): Promise<void> {
  const sql = renderSchema(names);
  const client = await pool.connect();
  client.on('error', ignoreIdleError);
  try {
    await client.query('BEGIN');
    await client.query("SELECT pg_advisory_xact_lock(hashtext('warren.schema'))");
    await client.query(sql);
    await client.query('COMMIT');
    client.off('error', ignoreIdleError);
    client.release();
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    client.off('error', ignoreIdleError);
    client.release(error as Error);
    throw error;
  }
}
