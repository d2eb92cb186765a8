import { createHash } from 'node:crypto';
import { ConnectionError, PublishTimeoutError, TopologyError, UnroutableError } from './errors';
import type { Delivery } from './transport';

/**
 * How a failed republish (retry, dead letter, requeue copy) is treated:
 * - `missing`: the exchange or queue is gone (`NOT_FOUND`, unroutable); re-declaring it may help;
 * - `permanent`: the same publish can never succeed (`CODEC` / frame too large, refused arguments,
 *   no permission), so waiting is pointless;
 * - `transient`: a timeout, a lost connection or channel, a full queue's nack: it may work shortly.
 */
export type RepublishFailureKind = 'missing' | 'permanent' | 'transient';

const MISSING = new Set(['NOT_FOUND']);
const PERMANENT = new Set(['CODEC', 'FRAME_ERROR', 'PRECONDITION_FAILED', 'ACCESS_REFUSED', 'NOT_ALLOWED', 'NOT_IMPLEMENTED', 'SYNTAX_ERROR', 'COMMAND_INVALID']);

/**
 * Classifies a failed publish. Warren's failure router uses it for retry and dead-letter copies;
 * `@warren/postgres`' relay uses it to tell a row the broker refuses from a broker that is away.
 *
 * @example
 * ```ts
 * republishFailureKind(new UnroutableError('orders', 'order.lost')); // 'missing'
 * ```
 */
export function republishFailureKind(error: unknown): RepublishFailureKind {
  if (error instanceof UnroutableError) return 'missing';
  if (error instanceof PublishTimeoutError || error instanceof ConnectionError) return 'transient';
  const code = amqpCode(error);
  if (code !== undefined && MISSING.has(code)) return 'missing';
  if (code !== undefined && PERMANENT.has(code)) return 'permanent';
  if (error instanceof TopologyError) return 'permanent';
  return 'transient';
}

/** The AMQP reply code behind an error: the client's `code` on its cause, or the `(CODE)` Warren's messages carry. */
function amqpCode(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  const message = error instanceof Error ? error.message : '';
  return /\(([A-Z_]+)\)/.exec(message)?.[1];
}

/** Messages tracked at once; the oldest entry is forgotten first (a bound, not a correctness limit). */
const MAX_TRACKED = 10_000;

/**
 * Counts, per message, how many times in a row its republish failed and it was requeued. Kept in
 * memory (a requeued message carries no new header): another instance counts on its own, so a
 * message is requeued at most `limit × instances` times before one of them rejects it.
 */
export class RepublishFailures {
  private readonly counts = new Map<string, number>();

  /** The queue and the message id, or a digest of the body when there is none. */
  keyOf(queue: string, delivery: Delivery): string {
    const id = delivery.properties.messageId;
    return `${queue}\u0000${typeof id === 'string' && id !== '' ? id : createHash('sha256').update(delivery.body).digest('base64')}`;
  }

  /** Counts one more failure; returns the count. */
  count(key: string): number {
    const count = (this.counts.get(key) ?? 0) + 1;
    this.counts.delete(key);
    this.counts.set(key, count);
    if (this.counts.size > MAX_TRACKED) this.counts.delete(this.counts.keys().next().value!);
    return count;
  }

  forget(key: string): void {
    this.counts.delete(key);
  }
}
