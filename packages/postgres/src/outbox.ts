import { createHash } from 'node:crypto';
import { publishVia, type OutgoingMessage, type Route, type SendOptions } from '@warren/core';
import type { Pool, PoolClient, QueryConfig, QueryResult, QueryResultRow } from 'pg';
import { OutboxError } from './errors';
import { ParkedRows } from './parked';
import { resolveTables, type QuotedTable, type TableNames } from './tables';

/** Per-publish options of an outbox publish: a route's send options plus an ordering key. */
export interface OutboxSendOptions extends Omit<SendOptions, 'timeoutMs'> {
  /**
   * Messages with the same key are published in the order they were written (by transactions that
   * committed): the relay sends a key's next message only after the previous one was confirmed.
   * Writers of one key are serialized until they commit (a transaction-scoped advisory lock).
   */
  orderingKey?: string;
}

/** Options of {@link Outbox}. */
export interface OutboxOptions extends TableNames {
  pool: Pool;
}

/**
 * A transactional outbox: messages published inside a database transaction are written to the
 * outbox table with the transaction's own rows, and an {@link OutboxRelay} sends them after commit.
 * Either both the business rows and the messages are committed, or neither.
 *
 * @example
 * ```ts
 * const outbox = new Outbox({ pool });
 * await outbox.transaction(async (tx) => {
 *   await tx.query('INSERT INTO orders (id, total) VALUES ($1, $2)', [order.id, order.total]);
 *   await tx.publish(events.created, { orderId: order.id }); // validated now, sent after commit
 * });
 * ```
 */
export class Outbox {
  readonly pool: Pool;
  /** @internal */
  readonly table: QuotedTable;
  /** The NOTIFY channel the relay listens on. */
  readonly channel: string;
  /** Rows the relay parked because the broker kept refusing them: count, list, release, discard. */
  readonly parked: ParkedRows;

  constructor(options: OutboxOptions) {
    this.pool = options.pool;
    this.table = resolveTables(options).outbox;
    const channel = `${options.outboxTable ?? 'warren_outbox'}:ready`;
    // Channel names are identifiers: PostgreSQL refuses ones over 63 bytes.
    this.channel = channel.length <= 63 ? channel : `warren_outbox:${createHash('sha256').update(channel).digest('hex').slice(0, 32)}`;
    this.parked = new ParkedRows(this.pool, this.table, this.channel);
  }

  /**
   * Runs `work` in a transaction on a pooled connection: committed when it resolves, rolled back
   * when it throws (and nothing it published is ever sent). Resolves with what `work` returned.
   */
  async transaction<T>(work: (tx: OutboxTransaction) => Promise<T>): Promise<T> {
    const tx = await this.begin();
    try {
      const result = await work(tx);
      await tx.commit();
      return result;
    } catch (error) {
      await tx.rollback(error);
      throw error;
    }
  }

  /**
   * Publishes through a transaction you manage yourself (BEGIN already sent on `client`; you
   * COMMIT or ROLLBACK). Returns the same publishing handle {@link transaction} gives.
   */
  use(client: PoolClient): OutboxTransaction {
    return new OutboxTransaction(client, this);
  }

  /** @internal BEGINs on a pooled client; the caller must commit or roll back (both release it). */
  async begin(): Promise<ManagedTransaction> {
    const client = await this.pool.connect();
    client.on('error', ignoreIdleError);
    try {
      await client.query('BEGIN');
    } catch (error) {
      client.off('error', ignoreIdleError);
      client.release(error as Error);
      throw error;
    }
    return new ManagedTransaction(client, this);
  }
}

/**
 * A database transaction that can publish: `query` runs SQL in it, `publish` writes a message to the
 * outbox in it. Validation, encoding and publish middleware run at the `publish` call, so an invalid
 * message rejects before any row is written.
 */
export class OutboxTransaction {
  private notified = false;
  /** @internal */
  ended = false;

  constructor(
    /** The connection the transaction runs on: for query builders and ORMs that take a client. */
    readonly client: PoolClient,
    private readonly outbox: Outbox,
  ) {}

  /** Runs a query in the transaction (node-postgres' `client.query`). */
  query<R extends QueryResultRow = QueryResultRow>(text: string | QueryConfig, values?: unknown[]): Promise<QueryResult<R>> {
    this.assertOpen();
    return this.client.query<R>(text as string, values);
  }

  /**
   * Publishes `message` through `route` as part of this transaction: validated and encoded now,
   * stored in the outbox, sent by the relay once the transaction has committed.
   *
   * @example
   * ```ts
   * await tx.publish(events.created, { orderId }, { orderingKey: orderId });
   * ```
   */
  async publish<T>(route: Route<T, unknown>, message: T, options?: OutboxSendOptions): Promise<void> {
    this.assertOpen();
    const { orderingKey, ...send } = options ?? {};
    await publishVia(route, message, send, (outgoing) => this.store(outgoing, orderingKey));
  }

  private async store(message: OutgoingMessage, orderingKey: string | undefined): Promise<void> {
    const table = this.outbox.table.sql;
    const properties = JSON.stringify(message.properties, jsonSafe);
    if (orderingKey !== undefined) {
      // Writers of one key take turns until commit, so id order is commit order for that key.
      await this.client.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', [table, orderingKey]);
    }
    await this.client.query(
      `INSERT INTO ${table} (exchange, routing_key, body, properties, mandatory, ordering_key) VALUES ($1, $2, $3, $4, $5, $6)`,
      [message.exchange, message.routingKey, message.body, properties, message.mandatory ?? false, orderingKey ?? null],
    );
    if (!this.notified) {
      // Delivered at commit only (and not at all on rollback): wakes the relays at once.
      await this.client.query('SELECT pg_notify($1, $2)', [this.outbox.channel, '']);
      this.notified = true;
    }
  }

  private assertOpen(): void {
    if (this.ended) throw new OutboxError('OUTBOX_TRANSACTION_ENDED', 'This outbox transaction has already committed or rolled back: publish inside the transaction callback, before it returns.');
  }
}

/** @internal A transaction this package began: it commits or rolls back, then releases the client. */
export class ManagedTransaction extends OutboxTransaction {
  async commit(): Promise<void> {
    this.ended = true;
    try {
      await this.client.query('COMMIT');
      this.release();
    } catch (error) {
      this.release(error as Error);
      throw error;
    }
  }

  async rollback(cause?: unknown): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    try {
      await this.client.query('ROLLBACK');
      this.release();
    } catch (error) {
      // A connection that cannot even roll back is discarded (the server ends its transaction).
      this.release((cause ?? error) as Error);
    }
  }

  private release(discard?: Error): void {
    this.client.off('error', ignoreIdleError);
    this.client.release(discard);
  }
}

/**
 * node-postgres emits 'error' on a checked-out client that is idle between queries when its server
 * goes away (a restart's 57P01); with no listener that would crash the process. While we hold a
 * client this listener takes it, and the next query fails with an error the callers handle.
 */
/** @internal */
export function ignoreIdleError(): void {}

/** Headers are stored as JSON: values JSON cannot give back as they were are refused at the call. */
function jsonSafe(this: Record<string, unknown>, key: string, value: unknown): unknown {
  // `this[key]` is the value before toJSON (a Buffer or Date would already be rewritten in `value`).
  const raw = this[key];
  if (typeof raw === 'bigint' || (typeof raw === 'object' && raw !== null && (Buffer.isBuffer(raw) || raw instanceof Date || ArrayBuffer.isView(raw)))) {
    throw new OutboxError('OUTBOX_HEADER', `The header or property "${key}" cannot be stored in the outbox (a ${typeof raw === 'bigint' ? 'bigint' : (raw as object).constructor.name}): use strings, numbers, booleans, arrays or plain objects.`);
  }
  return value;
}
