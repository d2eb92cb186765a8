import { ConfigurationError, republishFailureKind, silentLogger, type Logger, type MessageProperties, type Transport } from '@warren/core';
import type { Pool, PoolClient } from 'pg';
import { ignoreIdleError, type Outbox } from './outbox';
import { RelayWakeup } from './wakeup';

/** Options of {@link OutboxRelay}. */
export interface RelayOptions {
  /** Where messages are published: `app.transport` of a started Warren app. */
  transport: Transport;
  logger?: Logger;
  /** Rows claimed per round (default 100). */
  batchSize?: number;
  /** Poll period when no NOTIFY arrives (default 1,000 ms): the fallback for a lost LISTEN connection. */
  pollIntervalMs?: number;
  /** Confirm timeout per message (default 10,000 ms). */
  publishTimeoutMs?: number;
  /** Sent rows are deleted once older than this (default 24 h). */
  retentionMs?: number;
  /** How often sent rows are cleaned up (default 60 s). */
  cleanupIntervalMs?: number;
  /** Longest back-off after failed publishes of a row (default 30 s; starts at 500 ms, doubles). */
  maxBackoffMs?: number;
  /**
   * Refusals after which a row is parked (default 10, about two minutes with the default back-off):
   * the broker returned it unroutable or had no such exchange that many times. A parked row is never
   * sent again until released (`outbox.parked`), and its ordering key goes on without it. A row the
   * broker can never take (a frame too large, refused arguments) is parked at its first refusal;
   * failures that waiting can cure (a lost connection, a confirm timeout) never park a row.
   */
  maxRefusals?: number;
  /**
   * The pool the relay claims rows with (default: the outbox's). A small pool of its own (`max: 2`)
   * keeps a burst of business transactions waiting for connections from starving the relay.
   */
  pool?: Pool;
}

interface Row {
  id: string;
  exchange: string;
  routing_key: string;
  body: Buffer;
  properties: MessageProperties;
  mandatory: boolean;
  ordering_key: string | null;
  attempts: number;
  refusals: number;
}

/** A publish that failed, and whether the broker refused the row (as opposed to not answering). */
interface Failure {
  row: Row;
  error: string;
  kind: 'refused' | 'never' | 'transient';
}

/** Sent rows one clean-up statement deletes. */
const CLEANUP_LIMIT = 10_000;

/**
 * Sends committed outbox rows to the broker with publisher confirms and marks them sent. Any number
 * of relays (one per service instance) can run together: each claims rows with
 * `FOR UPDATE SKIP LOCKED`, and a row whose ordering key has an earlier unsent row is left for
 * later, so a key's messages go out one after another in order. A NOTIFY from committing
 * transactions wakes it; a poll covers a lost LISTEN connection. At-least-once: a relay that dies
 * after the confirm and before marking the row sends it again, with the same message id.
 *
 * @example
 * ```ts
 * const relay = new OutboxRelay(outbox, { transport: app.transport });
 * relay.start();
 * // … on shutdown, before app.close():
 * await relay.close();
 * ```
 */
export class OutboxRelay {
  /** Messages confirmed by the broker and marked sent, since start. */
  published = 0;
  /** Publish attempts that failed (the rows are retried after a back-off, or parked). */
  failures = 0;
  /** Rows this relay parked since start (see `outbox.parked` for every relay's). */
  parked = 0;
  private readonly logger: Logger;
  private readonly wakeup: RelayWakeup;
  private running?: Promise<void>;
  private closed = false;
  private lastCleanup = 0;
  private readonly maxRefusals: number;

  constructor(private readonly outbox: Outbox, private readonly options: RelayOptions) {
    this.logger = options.logger ?? silentLogger;
    this.maxRefusals = options.maxRefusals ?? 10;
    if (!Number.isInteger(this.maxRefusals) || this.maxRefusals < 1) throw new ConfigurationError(`maxRefusals must be a whole number ≥ 1 (got ${String(options.maxRefusals)}).`);
    this.wakeup = new RelayWakeup(outbox.pool, outbox.channel, this.logger);
  }

  /** Starts relaying in the background; returns at once. */
  start(): this {
    if (!this.running && !this.closed) {
      this.wakeup.listen();
      this.running = this.loop();
    }
    return this;
  }

  /** Stops after the round in progress (its publishes are confirmed and marked) and closes LISTEN. */
  async close(): Promise<void> {
    this.closed = true;
    this.wakeup.close();
    await this.running;
  }

  /**
   * One round: claims up to `batchSize` ready rows, publishes them, marks them. Resolves with how many
   * were published. `start()` calls it in a loop; tests and scripts may call it directly.
   */
  async relayOnce(): Promise<number> {
    const client = await (this.options.pool ?? this.outbox.pool).connect();
    client.on('error', ignoreIdleError);
    try {
      await client.query('BEGIN');
      const rows = await this.claim(client);
      const { sent, failed } = await this.publishAll(rows);
      if (sent.length) await client.query(`UPDATE ${this.outbox.table.sql} SET sent_at = now() WHERE id = ANY($1::bigint[])`, [sent]);
      const parked: Array<Failure & { refusals: number }> = [];
      for (const failure of failed) {
        const refusals = failure.row.refusals + (failure.kind === 'transient' ? 0 : 1);
        const park = failure.kind === 'never' || (failure.kind === 'refused' && refusals >= this.maxRefusals);
        if (park) parked.push({ ...failure, refusals });
        const backoff = Math.min(500 * 2 ** Math.min(failure.row.attempts, 16), this.options.maxBackoffMs ?? 30_000);
        await client.query(
          `UPDATE ${this.outbox.table.sql} SET attempts = attempts + 1, refusals = $2, last_error = $3, available_at = now() + ($4::int * interval '1 millisecond'),
             parked_at = CASE WHEN $5 THEN now() END WHERE id = $1`,
          [failure.row.id, refusals, failure.error.slice(0, 1000), backoff, park],
        );
      }
      await client.query('COMMIT');
      client.off('error', ignoreIdleError);
      client.release();
      this.published += sent.length;
      this.failures += failed.length;
      this.parked += parked.length;
      for (const { row, error, refusals } of parked) {
        this.logger.error('outbox row parked: the broker keeps refusing it; it will not be sent until released (outbox.parked), and its ordering key goes on without it', {
          outboxId: row.id, messageId: row.properties.messageId, exchange: row.exchange, routingKey: row.routing_key, orderingKey: row.ordering_key ?? undefined, refusals, error,
        });
      }
      return sent.length;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      client.off('error', ignoreIdleError);
      client.release(error as Error);
      throw error;
    }
  }

  /** Deletes sent rows older than the retention period; resolves with how many. */
  async cleanup(): Promise<number> {
    const table = this.outbox.table.sql;
    const result = await (this.options.pool ?? this.outbox.pool).query(
      `DELETE FROM ${table} WHERE id IN (SELECT id FROM ${table} WHERE sent_at < now() - ($1::bigint * interval '1 millisecond') LIMIT $2)`,
      [this.options.retentionMs ?? 24 * 3600_000, CLEANUP_LIMIT],
    );
    return result.rowCount ?? 0;
  }

  private async claim(client: PoolClient): Promise<Row[]> {
    const table = this.outbox.table.sql;
    // Skip-locked rows belong to another relay. A row is held back while an earlier row of its
    // key is unsent and not in this batch (another relay has it, or it waits for a retry); a
    // parked row holds nothing back.
    const result = await client.query<Row>(
      `WITH batch AS (
         SELECT id, ordering_key FROM ${table}
         WHERE sent_at IS NULL AND parked_at IS NULL AND available_at <= now()
         ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED
       )
       SELECT t.id, t.exchange, t.routing_key, t.body, t.properties, t.mandatory, t.ordering_key, t.attempts, t.refusals
       FROM ${table} t JOIN batch b ON b.id = t.id
       WHERE b.ordering_key IS NULL OR NOT EXISTS (
         SELECT 1 FROM ${table} p
         WHERE p.ordering_key = b.ordering_key AND p.sent_at IS NULL AND p.parked_at IS NULL AND p.id < b.id AND p.id NOT IN (SELECT id FROM batch)
       )
       ORDER BY t.id`,
      [this.options.batchSize ?? 100],
    );
    return result.rows;
  }

  /** Publishes in parallel across keys and one at a time within a key; a key stops at its first failure. */
  private async publishAll(rows: Row[]): Promise<{ sent: string[]; failed: Failure[] }> {
    const chains = new Map<string, Row[]>();
    for (const row of rows) {
      const key = row.ordering_key === null ? `#${row.id}` : `k:${row.ordering_key}`;
      const chain = chains.get(key);
      if (chain) chain.push(row);
      else chains.set(key, [row]);
    }
    const sent: string[] = [];
    const failed: Failure[] = [];
    const timeoutMs = this.options.publishTimeoutMs ?? 10_000;
    await Promise.all([...chains.values()].map(async (chain) => {
      for (const row of chain) {
        try {
          await this.options.transport.publish(
            { exchange: row.exchange, routingKey: row.routing_key, body: row.body, properties: row.properties, mandatory: row.mandatory },
            { confirm: true, timeoutMs },
          );
          sent.push(row.id);
        } catch (error) {
          const kind = republishFailureKind(error);
          failed.push({ row, error: (error as Error).message, kind: kind === 'missing' ? 'refused' : kind === 'permanent' ? 'never' : 'transient' });
          this.logger.warn('outbox relay could not publish; retrying later', { outboxId: row.id, messageId: row.properties.messageId, attempts: row.attempts + 1, error: (error as Error).message });
          return;
        }
      }
    }));
    return { sent, failed };
  }

  private async loop(): Promise<void> {
    const poll = this.options.pollIntervalMs ?? 1000;
    const cleanupEvery = this.options.cleanupIntervalMs ?? 60_000;
    while (!this.closed) {
      let published = 0;
      try {
        published = await this.relayOnce();
        if (Date.now() - this.lastCleanup >= cleanupEvery) {
          this.lastCleanup = Date.now();
          const removed = await this.cleanup();
          // A full statement means more are due: clean up again next round, so a busy outbox keeps up.
          if (removed >= CLEANUP_LIMIT) this.lastCleanup = 0;
          if (removed) this.logger.debug('outbox rows cleaned up', { removed });
        }
      } catch (error) {
        this.logger.warn('outbox relay round failed; trying again', { error: (error as Error).message });
      }
      // A full batch means more may be waiting: go again at once.
      if (published < (this.options.batchSize ?? 100)) await this.wakeup.wait(poll);
    }
  }
}
