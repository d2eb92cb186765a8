import type { Pool } from 'pg';
import type { QuotedTable } from './tables';

/** A parked outbox row, as {@link ParkedRows.list} shows it. */
export interface ParkedRow {
  id: string;
  exchange: string;
  routingKey: string;
  messageId?: string;
  orderingKey: string | null;
  attempts: number;
  /** How many times the broker refused it (returned it unroutable, had no such exchange, refused it outright). */
  refusals: number;
  /** Why it was parked: the last refusal's message. */
  lastError: string | null;
  parkedAt: Date;
}

/**
 * Outbox rows the relay parked: the broker kept refusing them (`maxRefusals` unroutable returns or
 * missing exchanges) or can never take them (a frame too large, refused arguments). A parked row is
 * not sent again and no longer holds its ordering key back; it stays in the table, with `parked_at`
 * and `last_error`, until it is released or discarded here. Shared by every instance.
 *
 * @example
 * ```ts
 * if (await outbox.parked.count() > 0) alert(await outbox.parked.list());
 * await outbox.parked.release(); // after binding the missing queue: send them all again
 * ```
 */
export class ParkedRows {
  constructor(private readonly pool: Pool, private readonly table: QuotedTable, private readonly channel: string) {}

  /** How many rows are parked, across every relay. */
  async count(): Promise<number> {
    const result = await this.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${this.table.sql} WHERE parked_at IS NOT NULL`);
    return Number(result.rows[0]?.n ?? 0);
  }

  /** The parked rows, oldest first (at most `limit`, default 100). */
  async list(limit = 100): Promise<ParkedRow[]> {
    const result = await this.pool.query(
      `SELECT id, exchange, routing_key, properties->>'messageId' AS message_id, ordering_key, attempts, refusals, last_error, parked_at
       FROM ${this.table.sql} WHERE parked_at IS NOT NULL ORDER BY id LIMIT $1`,
      [limit],
    );
    return result.rows.map((r) => ({
      id: String(r.id), exchange: r.exchange, routingKey: r.routing_key, messageId: r.message_id ?? undefined, orderingKey: r.ordering_key,
      attempts: r.attempts, refusals: r.refusals, lastError: r.last_error, parkedAt: r.parked_at,
    }));
  }

  /**
   * Hands parked rows (the given ids, or all) back to the relays, with their counts reset; resolves
   * with how many. Fix the cause first (bind the queue, shrink the headers). A released row goes out
   * after later rows of its ordering key that were sent while it was parked.
   */
  async release(ids?: readonly string[]): Promise<number> {
    const result = await this.pool.query(
      `WITH released AS (
         UPDATE ${this.table.sql} SET parked_at = NULL, refusals = 0, attempts = 0, available_at = now()
         WHERE parked_at IS NOT NULL AND ($1::bigint[] IS NULL OR id = ANY($1::bigint[])) RETURNING 1
       )
       SELECT count(*) AS n, pg_notify($2, '') FROM released`,
      [ids ?? null, this.channel],
    );
    return Number(result.rows[0]?.n ?? 0);
  }

  /** Deletes parked rows (the given ids, or all) for good; resolves with how many. */
  async discard(ids?: readonly string[]): Promise<number> {
    const result = await this.pool.query(
      `DELETE FROM ${this.table.sql} WHERE parked_at IS NOT NULL AND ($1::bigint[] IS NULL OR id = ANY($1::bigint[]))`,
      [ids ?? null],
    );
    return result.rowCount ?? 0;
  }
}
