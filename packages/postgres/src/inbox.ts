import { ConfigurationError, MessageAction, requeue, type ConsumeMiddleware, type Logger, type MessageContext } from '@warren/core';
import { isTransientDatabaseError, MissingMessageIdError } from './errors';
import { inboxRetention, InboxPruner } from './inbox-retention';
import type { ManagedTransaction, Outbox, OutboxTransaction } from './outbox';
import { resolveTables } from './tables';

/** Options of {@link transactionalInbox}. */
export interface TransactionalInboxOptions {
  /** The outbox whose pool runs the transactions; the handler's publishes go to it. */
  outbox: Outbox;
  /** Default `warren_inbox`. */
  inboxTable?: string;
  /** Which consumers (`Class.method`) run in a transaction; default every consumer. */
  consumers?: (consumer: string) => boolean;
  /** Pause before a message is requeued because the database is unreachable (default 1,000 ms). */
  unavailableDelayMs?: number;
  /**
   * How long inbox records are kept (default 7 days). A duplicate delivered later than this is not
   * recognised and runs again, so keep it above your longest redelivery, retry and replay horizon.
   * `Infinity` keeps records forever (prune them yourself with {@link pruneInbox}).
   */
  retentionMs?: number;
  /** Least time between two pruning runs (default 60,000 ms); a run that hit `pruneLimit` does not wait. */
  pruneIntervalMs?: number;
  /** Most records one pruning run deletes (default 5,000). */
  pruneLimit?: number;
  logger?: Logger;
}

const transactions = new WeakMap<MessageContext, OutboxTransaction>();

/**
 * The database transaction a transactional consumer's message runs in: query with it, publish
 * through it (to the outbox); it commits with the inbox record when the handler returns.
 *
 * @example
 * ```ts
 * @Consumer('orders', 'order.placed')
 * async place(order: OrderPlaced, ctx: MessageContext) {
 *   const tx = transactionOf(ctx);
 *   await tx.query('INSERT INTO orders (id, total) VALUES ($1, $2)', [order.id, order.total]);
 *   await tx.publish(this.events.accepted, { orderId: order.id });
 * }
 * ```
 */
export function transactionOf(context: MessageContext): OutboxTransaction {
  const tx = transactions.get(context);
  if (!tx) throw new ConfigurationError('This message runs in no database transaction: add transactionalInbox({ outbox }) to the app\'s consume middleware, and make sure its `consumers` filter includes this consumer.');
  return tx;
}

/**
 * A transactional inbox, as consume middleware: each message's handler runs inside a PostgreSQL
 * transaction ({@link transactionOf}) that also inserts the inbox record (consumer, message id); it
 * commits before the message is acknowledged. So a handler's database effects happen exactly once:
 * - a duplicate delivery finds the record and is acked without running;
 * - a crash before the commit rolls everything back, and the redelivery runs the handler again;
 * - a crash after the commit and before the ack: the redelivery finds the record and is acked.
 * A message without a message id cannot be recorded: it is dead-lettered at once with code
 * `INBOX_MISSING_MESSAGE_ID`. A database that is unreachable (or a serialization failure or
 * deadlock) requeues the message after `unavailableDelayMs` instead of using up its retries.
 * Batch consumers record every message; repeats are taken out of the batch. Records older than
 * `retentionMs` (7 days) are pruned in the background as messages arrive, in bounded runs.
 *
 * @example
 * ```ts
 * const outbox = new Outbox({ pool });
 * await Warren.start({ handlers: [Orders], middleware: { consume: [transactionalInbox({ outbox })] } });
 * ```
 */
export function transactionalInbox(options: TransactionalInboxOptions): ConsumeMiddleware {
  const table = resolveTables({ inboxTable: options.inboxTable }).inbox.sql;
  const delayMs = options.unavailableDelayMs ?? 1000;
  const pruner = new InboxPruner(options.outbox.pool, options.inboxTable, inboxRetention(options), options.logger);
  const unavailable = async (consumer: string, error: unknown): Promise<MessageAction> => {
    options.logger?.warn('database unavailable; requeueing the message', { consumer, error: (error as Error).message });
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    return requeue(`database unavailable: ${(error as Error).message}`);
  };

  return async (call, next) => {
    if (options.consumers && !options.consumers(call.consumer)) return next();
    const contexts = call.batch ? call.batch.contexts : [call.context];
    for (const context of contexts) if (!context.messageId) throw new MissingMessageIdError(call.consumer);
    pruner.poke();
    let tx: ManagedTransaction;
    try {
      tx = await options.outbox.begin();
    } catch (error) {
      if (isTransientDatabaseError(error)) return unavailable(call.consumer, error);
      throw error;
    }
    try {
      let kept = 0;
      for (const context of contexts) {
        // Waits if another delivery of the same message holds an uncommitted record: it commits
        // (then this one is a duplicate) or rolls back (then this one runs).
        const inserted = await tx.client.query(`INSERT INTO ${table} (consumer, message_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [call.consumer, context.messageId]);
        if (inserted.rowCount === 1) {
          kept++;
          transactions.set(context, tx);
        } else {
          call.batch?.skip(context);
        }
      }
      if (kept === 0) {
        await tx.rollback();
        return undefined; // processed before: ack without running
      }
      const result = await next();
      if (result instanceof MessageAction && result.kind !== 'ack') {
        await tx.rollback();
        return result;
      }
      await tx.commit();
      return result;
    } catch (error) {
      await tx.rollback(error);
      if (isTransientDatabaseError(error)) return unavailable(call.consumer, error);
      throw error;
    } finally {
      for (const context of contexts) transactions.delete(context);
    }
  };
}
