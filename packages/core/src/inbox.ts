import { MessageAction } from './actions';
import type { ConsumeMiddleware } from './pipeline';

/**
 * Where an inbox remembers which messages it has processed. Implement it on a shared store
 * (Redis `SET key NX PX ttl`, a SQL table with a unique key) so every instance of a service sees
 * the same record; {@link MemoryInboxStore} is per process.
 */
export interface InboxStore {
  /** Claims `key` for processing; false if it was already processed or is being processed. */
  claim(key: string, ttlMs: number): Promise<boolean>;
  /** Records `key` as processed (kept for `ttlMs` from the claim). */
  complete(key: string): Promise<void>;
  /** Gives `key` up after a failure, so a retry of the message can process it. */
  release(key: string): Promise<void>;
}

/** An in-process {@link InboxStore}: a map with expiry and a size bound (oldest forgotten first). */
export class MemoryInboxStore implements InboxStore {
  private readonly entries = new Map<string, number>();

  constructor(private readonly maxEntries = 100_000) {}

  async claim(key: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    const expires = this.entries.get(key);
    if (expires !== undefined && expires > now) return false;
    this.entries.delete(key);
    this.entries.set(key, now + ttlMs);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return true;
  }

  async complete(): Promise<void> {
    // The claim already holds the key until it expires.
  }

  async release(key: string): Promise<void> {
    this.entries.delete(key);
  }
}

/**
 * An idempotent-consumer middleware: a message whose id was already processed (by this consumer)
 * is acknowledged without running the handler again. This turns RabbitMQ's at-least-once delivery
 * into effectively-once processing, as far as the store remembers (`ttlMs`, default 24 h).
 * Messages without a message id pass through.
 *
 * @example
 * ```ts
 * await Warren.start({ handlers: [Billing], middleware: { consume: [inbox({ store: new RedisInbox(redis) })] } });
 * ```
 */
export function inbox(options: { store?: InboxStore; ttlMs?: number } = {}): ConsumeMiddleware {
  const store = options.store ?? new MemoryInboxStore();
  const ttlMs = options.ttlMs ?? 24 * 3600_000;
  return async (call, next) => {
    const id = call.context.messageId;
    if (!id) return next();
    const key = `${call.consumer}:${id}`;
    if (!(await store.claim(key, ttlMs))) return undefined;
    try {
      const result = await next();
      // A returned retry / requeue / reject means "not processed": a later delivery must run.
      if (result instanceof MessageAction && result.kind !== 'ack') await store.release(key);
      else await store.complete(key);
      return result;
    } catch (error) {
      await store.release(key);
      throw error;
    }
  };
}
