import { MessageAction, requeue } from './actions';
import type { ConsumeMiddleware } from './pipeline';

/** What {@link InboxStore.claim} found: the key is now ours, someone is processing it, or it is done. */
export type ClaimResult = 'claimed' | 'busy' | 'processed';

/**
 * Where an inbox remembers which messages it has processed. Implement it on a shared store
 * (Redis `SET key NX PX`, a SQL table with a unique key) so every instance of a service sees the
 * same record; {@link MemoryInboxStore} is per process. For an inbox in the service's own
 * PostgreSQL database, committed with the handler's writes, see `@warren/postgres`.
 *
 * Two lifetimes: a claim is a short lease (renewed while the handler runs), so a process that dies
 * mid-handler frees the key soon and the redelivery runs; a processed record is kept for `ttlMs`.
 */
export interface InboxStore {
  /** Claims `key` for `leaseMs` unless it is processed or held by a live lease. */
  claim(key: string, leaseMs: number): Promise<ClaimResult>;
  /** Extends a lease we hold by `leaseMs` from now. */
  renew(key: string, leaseMs: number): Promise<void>;
  /** Records `key` as processed, remembered for `ttlMs`. */
  complete(key: string, ttlMs: number): Promise<void>;
  /** Gives `key` up after a failure, so a retry of the message can process it. */
  release(key: string): Promise<void>;
}

/** An in-process {@link InboxStore}: a map with expiry and a size bound (oldest forgotten first). */
export class MemoryInboxStore implements InboxStore {
  private readonly entries = new Map<string, { processed: boolean; expires: number }>();

  constructor(private readonly maxEntries = 100_000) {}

  async claim(key: string, leaseMs: number): Promise<ClaimResult> {
    const now = Date.now();
    const entry = this.entries.get(key);
    if (entry !== undefined && entry.expires > now) return entry.processed ? 'processed' : 'busy';
    this.set(key, { processed: false, expires: now + leaseMs });
    return 'claimed';
  }

  async renew(key: string, leaseMs: number): Promise<void> {
    const entry = this.entries.get(key);
    if (entry && !entry.processed) entry.expires = Date.now() + leaseMs;
  }

  async complete(key: string, ttlMs: number): Promise<void> {
    this.set(key, { processed: true, expires: Date.now() + ttlMs });
  }

  async release(key: string): Promise<void> {
    this.entries.delete(key);
  }

  private set(key: string, entry: { processed: boolean; expires: number }): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }
}

/** Options of {@link inbox}. */
export interface InboxOptions {
  store?: InboxStore;
  /** How long a processed message id is remembered (default 24 h). */
  ttlMs?: number;
  /** How long a claim lives without renewal; renewed every third of it while the handler runs (default 30 s). */
  leaseMs?: number;
  /**
   * How long a copy of a message that is being processed elsewhere waits for that to end (it is then
   * acked, or run if the holder failed or died); past it, the copy is requeued (default 2 × `leaseMs`).
   */
  busyWaitMs?: number;
}

/**
 * An idempotent-consumer middleware: a message whose id was already processed (by this consumer)
 * is acknowledged without running the handler again. This turns RabbitMQ's at-least-once delivery
 * into effectively-once processing, as far as the store remembers (`ttlMs`, default 24 h).
 * A message another instance is processing right now waits for that lease, then is acked (it was
 * processed) or run (its holder failed or died); batch consumers check each message of a batch.
 * Messages without a message id pass through.
 *
 * The record is written after the handler, not with its effects: a crash between the two runs the
 * handler again. For exactly-once effects in a database, use `@warren/postgres`'s transactional inbox.
 *
 * @example
 * ```ts
 * const store = new MemoryInboxStore(); // or your InboxStore on a shared database
 * await Warren.start({ handlers: [Billing], middleware: { consume: [inbox({ store, ttlMs: 86_400_000 })] } });
 * ```
 */
export function inbox(options: InboxOptions = {}): ConsumeMiddleware {
  const store = options.store ?? new MemoryInboxStore();
  const ttlMs = options.ttlMs ?? 24 * 3600_000;
  const leaseMs = options.leaseMs ?? 30_000;
  const busyWaitMs = options.busyWaitMs ?? 2 * leaseMs;
  return async (call, next) => {
    const contexts = call.batch ? call.batch.contexts : [call.context];
    const claimed: string[] = [];
    let kept = 0;
    try {
      for (const context of contexts) {
        const id = context.messageId;
        if (!id) { kept++; continue; }
        const key = `${call.consumer}:${id}`;
        // The same id twice in one batch: the first copy stands for both.
        const found = claimed.includes(key) ? 'processed' : await claimWaiting(store, key, leaseMs, busyWaitMs);
        if (found === 'claimed') { claimed.push(key); kept++; } else if (found === 'processed') call.batch?.skip(context);
        else {
          await Promise.all(claimed.map((k) => store.release(k)));
          return requeue(`message ${id} is being processed elsewhere; it did not end in ${busyWaitMs} ms`);
        }
      }
    } catch (error) {
      await Promise.all(claimed.map((key) => store.release(key)));
      throw error;
    }
    if (kept === 0) return undefined; // every message was processed before: ack without running
    const renewal = setInterval(() => { for (const key of claimed) void store.renew(key, leaseMs).catch(() => undefined); }, Math.max(1, Math.floor(leaseMs / 3)));
    try {
      const result = await next();
      // A returned retry / requeue / reject means "not processed": a later delivery must run.
      if (result instanceof MessageAction && result.kind !== 'ack') await Promise.all(claimed.map((key) => store.release(key)));
      else await Promise.all(claimed.map((key) => store.complete(key, ttlMs)));
      return result;
    } catch (error) {
      await Promise.all(claimed.map((key) => store.release(key)));
      throw error;
    } finally {
      clearInterval(renewal);
    }
  };
}

/** Claims `key`, waiting up to `waitMs` for another holder to finish or lose it. */
async function claimWaiting(store: InboxStore, key: string, leaseMs: number, waitMs: number): Promise<ClaimResult> {
  const deadline = Date.now() + waitMs;
  while (true) {
    const found = await store.claim(key, leaseMs);
    if (found !== 'busy' || Date.now() >= deadline) return found;
    await new Promise((resolve) => setTimeout(resolve, Math.min(100, leaseMs)));
  }
}
