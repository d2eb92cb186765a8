/**
 * A counting semaphore with a FIFO queue of waiters: the bound on publishes in flight. Taking a
 * free permit is synchronous (no promise on the hot path); a caller beyond the bound waits its turn.
 *
 * Waiting has a deadline without counting a busy queue against anyone: when no permit has come back
 * for `stallMs` (the broker blocked or gone, every permit held by an unconfirmed publish), every
 * waiter fails with `stalled()`. A long queue that moves never fails.
 */
export class Permits {
  private free: number;
  private readonly waiters: Array<{ resolve(): void; reject(error: Error): void } | undefined> = [];
  private head = 0;
  private watchdog?: NodeJS.Timeout;

  constructor(readonly limit: number, private readonly stallMs: number, private readonly stalled: () => Error) {
    this.free = limit;
  }

  /** Permits in use. */
  get inUse(): number {
    return this.limit - this.free;
  }

  /** Callers waiting for a permit. */
  get waiting(): number {
    return this.waiters.length - this.head;
  }

  /** Takes a permit if one is free and nobody waits ahead; false otherwise. */
  tryTake(): boolean {
    if (this.free === 0 || this.waiting > 0) return false;
    this.free--;
    return true;
  }

  /** Resolves with a permit, in arrival order. */
  take(): Promise<void> {
    if (this.tryTake()) return Promise.resolve();
    if (!this.watchdog && Number.isFinite(this.stallMs)) {
      this.watchdog = setTimeout(() => { this.watchdog = undefined; this.rejectWaiting(this.stalled()); }, this.stallMs);
    }
    return new Promise((resolve, reject) => { this.waiters.push({ resolve, reject }); });
  }

  /** Gives a permit back: straight to the longest waiter, if any. */
  give(): void {
    if (this.waiting > 0) {
      const next = this.waiters[this.head]!;
      this.waiters[this.head++] = undefined;
      // Compact now and then: shift() on a 400k-long array is O(n) per call.
      if (this.head > 1024 && this.head * 2 > this.waiters.length) {
        this.waiters.splice(0, this.head);
        this.head = 0;
      }
      if (this.waiting === 0) this.stopWatchdog();
      else this.watchdog?.refresh();
      next!.resolve();
      return;
    }
    this.free++;
  }

  /** Fails every waiter (the transport is closing); permits in use come back through {@link give}. */
  rejectWaiting(error: Error): void {
    this.stopWatchdog();
    const waiting = this.waiters.splice(this.head);
    this.waiters.length = 0;
    this.head = 0;
    for (const waiter of waiting) waiter!.reject(error);
  }

  private stopWatchdog(): void {
    clearTimeout(this.watchdog);
    this.watchdog = undefined;
  }
}
