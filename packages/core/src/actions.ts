import { WarrenError } from './errors';
import { assertRetryDelay } from './retry-delays';

/** What a handler can ask for instead of the default (ack on success, retry policy on error). */
export type ActionKind = 'ack' | 'reject' | 'requeue' | 'retry';

/**
 * A settlement a handler chooses. Return it, or throw it from anywhere below the handler.
 *
 * @example
 * ```ts
 * if (!stock.has(order.sku)) throw retryLater(30_000, 'stock not yet synchronised');
 * if (order.test) return ack();
 * if (fraud) throw reject('flagged as fraud');   // dead-lettered at once, no retries
 * ```
 */
export class MessageAction extends WarrenError {
  constructor(readonly kind: ActionKind, reason: string, readonly delayMs?: number) {
    super(kind === 'reject' ? 'REJECTED' : `ACTION_${kind.toUpperCase()}`, reason, { permanent: kind === 'reject' });
  }
}

/**
 * True for a `MessageAction`, without letting a hostile value's code run: `instanceof` calls a
 * Proxy's `getPrototypeOf` trap, which may throw.
 */
export function isMessageAction(value: unknown): value is MessageAction {
  try {
    return value instanceof MessageAction;
  } catch {
    return false;
  }
}

/** Acknowledge the message: it is done, whatever happened. */
export function ack(): MessageAction {
  return new MessageAction('ack', 'acknowledged by the handler');
}

/** Dead-letter the message now, skipping retries; `reason` goes into `x-warren-error-message`. */
export function reject(reason = 'rejected by the handler'): MessageAction {
  return new MessageAction('reject', reason);
}

/**
 * Put the message back in its queue at once, without counting an attempt. Warren republishes it to
 * the back of the queue with a count (`x-warren-requeues`) and dead-letters it with code
 * `REQUEUE_LIMIT` after {@link MAX_REQUEUES} requeues, the same on every RabbitMQ version (prefer
 * `retryLater`, which waits).
 */
export function requeue(reason = 'requeued by the handler'): MessageAction {
  return new MessageAction('requeue', reason);
}

/**
 * Retry after a delay (default: the consumer's retry policy), counting as an attempt. The delay is
 * a whole number of ms from 1 to 86,400,000 (one day), else `InvalidDelayError` is thrown here; the
 * message waits exactly that long in the delay cascade (see docs/scheduling.md).
 */
export function retryLater(delayMs?: number, reason = 'retry requested by the handler'): MessageAction {
  if (delayMs !== undefined) assertRetryDelay(delayMs);
  return new MessageAction('retry', reason, delayMs);
}

/** How many times `requeue()` puts one message back before Warren dead-letters it (`REQUEUE_LIMIT`). */
export const MAX_REQUEUES = 20;
