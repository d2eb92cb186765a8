import { InvalidStreamOffsetError } from './errors';
import type { Logger } from './logger';
import type { OffsetStore } from './offset-store';
import { startArgument, type CheckedStreamOffset } from './stream-offset';
import type { Settlement } from './transport';

/**
 * One reader's place in a stream: which offsets it has processed, what it has stored, and where it
 * starts when it (re)attaches.
 *
 * The watermark is the highest offset such that every message delivered at or below it has been
 * processed. Handlers run concurrently and finish in any order, so a finished message above a
 * running one waits in `pending` until everything before it is done. Delivery order, not offset
 * arithmetic, decides what "before" means: a stream trimmed by retention has gaps, and a resumed
 * reader may start after one.
 *
 * Bounded repeats. The store is written when `every` messages have been processed since the last
 * confirmed write (or `intervalMs` after the first of them); a message starts only while fewer than
 * `every` processed messages await a write AND fewer than `window` (the prefetch) are pending. So
 * at any moment at most `every + window - 1` processed messages lie beyond the stored offset: after
 * a crash, that many at most are read and handled again, and none is skipped (see docs/streams.md).
 */

/** What a reader is built from. */
export interface StreamReaderOptions {
  /** `Class.method`, for logs. */
  consumer: string;
  /** Where it starts when nothing is stored (or nothing is stored at all: a replay). */
  start: CheckedStreamOffset;
  /** Pending (started, or finished behind an unfinished one) messages at most: the prefetch. */
  window: number;
  logger: Logger;
  /** Offset tracking; absent for a reader that stores nothing (a replay). */
  tracking?: { name: string; store: OffsetStore; every: number; intervalMs: number };
  /** A replay: the last offset to process; the reader is `finished` once it got there (or past it). */
  until?: number;
}

interface Pending {
  readonly offset: number;
  done: boolean;
  readonly finished: Promise<void>;
  finish(): void;
}

/** Longest pause between attempts to write an offset while the store fails. */
const MAX_STORE_BACKOFF_MS = 30_000;

export class StreamReader {
  private watermark: number | undefined;
  private committed: number | undefined;
  /** Messages processed in total, and as many as the last confirmed write covered. */
  private processed = 0;
  private processedAtCommit = 0;
  private readonly pending: Pending[] = [];
  private writing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private stopping = false;
  private readonly stopped = new AbortController();
  private waiters: Array<() => void> = [];
  private markFinished!: () => void;
  /** Resolves once a replay has processed `until`, or received a message past it. */
  readonly finished = new Promise<void>((resolve) => { this.markFinished = resolve; });

  constructor(private readonly options: StreamReaderOptions) {}

  /** The offset every message up to which has been processed (undefined before the first). */
  get position(): number | undefined {
    return this.watermark;
  }

  /** Messages processed (handled or dead-lettered) by this reader. */
  get processedCount(): number {
    return this.processed;
  }

  /** Loads the stored offset; the reader resumes right after it. */
  async open(): Promise<void> {
    const tracking = this.options.tracking;
    if (!tracking) return;
    const stored = await tracking.store.load(tracking.name);
    if (stored === undefined || stored === null) return;
    if (!Number.isSafeInteger(stored) || stored < 0) {
      throw new InvalidStreamOffsetError(`${this.options.consumer}: the offset store returned ${JSON.stringify(stored)} for "${tracking.name}"; expected a whole number ≥ 0 or nothing.`);
    }
    this.watermark = this.committed = stored;
  }

  /** `x-stream-offset` for the next attach: right after the watermark, or the configured start. */
  startArgument(): string | number {
    return this.watermark === undefined ? startArgument(this.options.start) : this.watermark + 1;
  }

  /**
   * Runs `work` for the message at `offset` unless it was processed already, and settles it:
   * `ack` when processed (or skipped as a repeat), `requeue` when the reader stopped first (the
   * message stays unprocessed and is read again after a restart). `work` resolves true once the
   * message is processed, false when it gave up because the reader is stopping.
   */
  async process(offset: number, work: () => Promise<boolean>): Promise<Settlement> {
    if (this.watermark !== undefined && offset <= this.watermark) return 'ack';
    if (this.options.until !== undefined && offset > this.options.until) {
      this.markFinished();
      return 'ack';
    }
    const running = this.pending.find((p) => p.offset === offset);
    if (running) {
      // Delivered again after a re-attach while the first delivery still runs: that one decides.
      await running.finished;
      return 'ack';
    }
    while (!this.stopping && !this.hasRoom()) await this.changed();
    if (this.stopping) return 'requeue';
    const entry = this.track(offset);
    let processed = false;
    try {
      processed = await work();
    } finally {
      entry.done = processed;
      entry.finish();
    }
    if (!processed) return 'requeue';
    this.advance();
    if (this.options.until !== undefined && this.watermark !== undefined && this.watermark >= this.options.until) this.markFinished();
    return 'ack';
  }

  /** Waits `ms` (an in-process retry); false at once when the reader is stopping. */
  pause(ms: number): Promise<boolean> {
    if (this.stopping) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.stopped.signal.removeEventListener('abort', abort); resolve(true); }, ms);
      const abort = () => { clearTimeout(timer); resolve(false); };
      this.stopped.signal.addEventListener('abort', abort, { once: true });
    });
  }

  /** Stops starting messages and ends pauses and waits: running handlers finish, nothing new runs. */
  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    this.stopped.abort();
    clearTimeout(this.timer);
    this.wake();
  }

  /** After the handlers have drained: writes the watermark if the store is behind, within `timeoutMs`. */
  async flush(timeoutMs: number): Promise<void> {
    const tracking = this.options.tracking;
    if (!tracking || this.watermark === undefined || this.watermark === this.committed) return;
    const target = this.watermark;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => { timer = setTimeout(() => resolve('late'), timeoutMs); });
    try {
      await this.writing?.catch(() => undefined);
      const outcome = await Promise.race([tracking.store.save(tracking.name, target).then(() => 'saved' as const), late]);
      if (outcome === 'saved') this.committed = target;
      else this.options.logger.warn('the offset store did not confirm the last offset in time; a restart will repeat the messages after the stored one', { consumer: this.options.consumer, offset: target, stored: this.committed });
    } catch (error) {
      this.options.logger.error('could not store the last offset; a restart will repeat the messages after the stored one', { consumer: this.options.consumer, offset: target, stored: this.committed, error: (error as Error).message });
    } finally {
      clearTimeout(timer);
    }
  }

  /** Room to start a message: the window has space and not too many processed messages await a write. */
  private hasRoom(): boolean {
    if (this.pending.length >= this.options.window) return false;
    const tracking = this.options.tracking;
    if (tracking && this.processed - this.processedAtCommit >= tracking.every) {
      this.write();
      return false;
    }
    return true;
  }

  private track(offset: number): Pending {
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => { finish = resolve; });
    const entry: Pending = { offset, done: false, finished, finish };
    let index = this.pending.length;
    while (index > 0 && this.pending[index - 1]!.offset > offset) index--;
    this.pending.splice(index, 0, entry);
    return entry;
  }

  /** Moves the watermark past every finished message at the front, then writes it when due. */
  private advance(): void {
    while (this.pending.length > 0 && this.pending[0]!.done) {
      this.watermark = this.pending.shift()!.offset;
      this.processed++;
    }
    this.wake();
    const tracking = this.options.tracking;
    if (!tracking || this.watermark === this.committed) return;
    if (this.processed - this.processedAtCommit >= tracking.every) this.write();
    else if (!this.timer && !this.stopping) {
      this.timer = setTimeout(() => { this.timer = undefined; this.write(); }, tracking.intervalMs);
      this.timer.unref();
    }
  }

  /** Starts one write of the watermark unless one is running; on failure, tries again after a back-off. */
  private write(): void {
    const tracking = this.options.tracking;
    if (!tracking || this.writing || this.watermark === undefined || this.watermark === this.committed) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    const target = this.watermark;
    const count = this.processed;
    this.writing = tracking.store.save(tracking.name, target).then(() => {
      this.committed = target;
      this.processedAtCommit = count;
      this.failures = 0;
      this.writing = undefined;
      this.wake();
      // More may have finished meanwhile.
      if (this.processed - this.processedAtCommit >= tracking.every) this.write();
    }, async (error: Error) => {
      this.failures++;
      const backoff = Math.min(1000 * 2 ** (this.failures - 1), MAX_STORE_BACKOFF_MS);
      this.options.logger.error('could not store the stream offset; consumption pauses until the store takes it', { consumer: this.options.consumer, offset: target, retryInMs: backoff, error: error?.message });
      const waited = await this.pause(backoff);
      this.writing = undefined;
      this.wake();
      // Stopping: flush() makes the last attempt.
      if (waited) this.write();
    });
  }

  /** Resolves on the next change that may give room (a message finished, a write confirmed, stop). */
  private changed(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
