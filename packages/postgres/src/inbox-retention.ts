import { ConfigurationError, type Logger } from '@warren/core';
import type { Pool } from 'pg';
import { resolveTables } from './tables';

/** Default time an inbox record is kept: a duplicate delivered later than this runs again. */
export const DEFAULT_INBOX_RETENTION_MS = 7 * 24 * 3600_000;

/** Options of {@link pruneInbox}. */
export interface PruneInboxOptions {
  /** Records processed longer ago than this are deleted. */
  olderThanMs: number;
  /** Default `warren_inbox`. */
  inboxTable?: string;
  /** Most records deleted by this call (default 5,000): one short statement, never a table-long lock. */
  limit?: number;
}

/**
 * Deletes inbox records processed more than `olderThanMs` ago, at most `limit` of them; resolves with
 * how many. Instances may prune together: rows another one is deleting are skipped, not waited for.
 * `transactionalInbox` calls it on its own (its `retentionMs`); call it yourself from a scheduled job
 * when you turned that off.
 *
 * @example
 * ```ts
 * while ((await pruneInbox(pool, { olderThanMs: 30 * 24 * 3600_000 })) > 0);
 * ```
 */
export async function pruneInbox(pool: Pool, options: PruneInboxOptions): Promise<number> {
  const table = resolveTables({ inboxTable: options.inboxTable }).inbox.sql;
  const limit = options.limit ?? 5000;
  assertPositive(options.olderThanMs, 'olderThanMs', { allowInfinity: false });
  assertPositive(limit, 'limit', { integer: true });
  const result = await pool.query(
    `DELETE FROM ${table} WHERE (consumer, message_id) IN (
       SELECT consumer, message_id FROM ${table}
       WHERE processed_at < now() - ($1::bigint * interval '1 millisecond')
       LIMIT $2 FOR UPDATE SKIP LOCKED
     )`,
    [Math.round(options.olderThanMs), limit],
  );
  return result.rowCount ?? 0;
}

/** Retention settings of a transactional inbox, checked. */
export interface InboxRetention {
  retentionMs: number;
  pruneIntervalMs: number;
  pruneLimit: number;
}

export function inboxRetention(options: { retentionMs?: number; pruneIntervalMs?: number; pruneLimit?: number }): InboxRetention {
  const retention = {
    retentionMs: options.retentionMs ?? DEFAULT_INBOX_RETENTION_MS,
    pruneIntervalMs: options.pruneIntervalMs ?? 60_000,
    pruneLimit: options.pruneLimit ?? 5000,
  };
  assertPositive(retention.retentionMs, 'retentionMs', { allowInfinity: true });
  assertPositive(retention.pruneIntervalMs, 'pruneIntervalMs', { allowZero: true });
  assertPositive(retention.pruneLimit, 'pruneLimit', { integer: true });
  return retention;
}

/**
 * Prunes an inbox in the background of the messages it records, so no timer outlives the app: at
 * most one run at a time and one per `pruneIntervalMs`; a run that deleted a full `pruneLimit` lets
 * the next message prune again at once, so a backlog drains as fast as messages arrive.
 */
export class InboxPruner {
  private last = 0;
  private running = false;

  constructor(private readonly pool: Pool, private readonly inboxTable: string | undefined, private readonly retention: InboxRetention, private readonly logger?: Logger) {}

  /** Starts a run if one is due; never waits for it and never throws. */
  poke(): void {
    const { retentionMs, pruneIntervalMs, pruneLimit } = this.retention;
    if (retentionMs === Number.POSITIVE_INFINITY || this.running || Date.now() - this.last < pruneIntervalMs) return;
    this.running = true;
    pruneInbox(this.pool, { olderThanMs: retentionMs, inboxTable: this.inboxTable, limit: pruneLimit }).then((removed) => {
      if (removed < pruneLimit) this.last = Date.now();
      if (removed) this.logger?.debug('inbox records pruned', { removed, retentionMs });
    }, (error: Error) => {
      this.last = Date.now();
      this.logger?.warn('could not prune the inbox; trying again later', { error: error.message });
    }).finally(() => { this.running = false; });
  }
}

function assertPositive(value: unknown, what: string, allow: { allowInfinity?: boolean; allowZero?: boolean; integer?: boolean } = {}): void {
  const ok = typeof value === 'number' && !Number.isNaN(value)
    && (value > 0 || (allow.allowZero === true && value === 0))
    && (Number.isFinite(value) ? (!allow.integer || Number.isInteger(value)) : allow.allowInfinity === true);
  if (!ok) {
    const kind = allow.integer ? 'a whole number ≥ 1' : `a number of milliseconds ${allow.allowZero ? '≥ 0' : '> 0'}${allow.allowInfinity ? ' (Infinity keeps records forever)' : ''}`;
    throw new ConfigurationError(`${what} must be ${kind} (got ${String(value)}).`);
  }
}
