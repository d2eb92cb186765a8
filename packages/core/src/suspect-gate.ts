/**
 * Runs suspects — messages that were delivered before without being settled, i.e. that were in the
 * hands of a process that died — one at a time, with no other handler of the consumer running.
 * Whatever killed the process is then most likely the suspect itself, and the messages that would
 * otherwise have been running beside it are not redelivered (and counted) with it again.
 *
 * Scheduling: ordinary deliveries run as usual while suspects wait. A suspect starts once the
 * consumer is idle (nothing running, nothing else waiting) and has stayed idle for a moment, so the
 * rest of a redelivered burst has arrived; among waiting suspects the most recently delivered goes
 * first, so a message delivered right behind a crashing one is handled before it. Under sustained
 * load a suspect would never see the consumer idle: after `maxWaitMs` new ordinary deliveries are
 * held until the running ones finish and the suspect has run.
 *
 * What the gate cannot do: deliveries the broker pushed (within the prefetch window) but that were
 * not started when the process died come back counted too. See docs/reliability.md.
 */
export class SuspectGate {
  private running = 0;
  /** A suspect is running: nothing else may start. */
  private exclusive = false;
  /** A suspect has waited `maxWaitMs`: ordinary deliveries are held until the waiting suspects have run. */
  private forced = false;
  private readonly suspects: Array<{ since: number; start(): void }> = [];
  private readonly held: Array<() => void> = [];
  private timer?: NodeJS.Timeout;

  constructor(private readonly settleMs = 20, private readonly maxWaitMs = 1_000) {}

  /** Runs `task` now, or once the gate lets it: alone when `suspect`. */
  async run<T>(suspect: boolean, task: () => Promise<T>): Promise<T> {
    await (suspect ? this.enterAlone() : this.enter());
    try {
      return await task();
    } finally {
      this.running--;
      if (suspect) this.exclusive = false;
      this.schedule();
    }
  }

  private enter(): Promise<void> {
    if (!this.exclusive && !this.forced) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.held.push(() => { this.running++; resolve(); }));
  }

  private enterAlone(): Promise<void> {
    return new Promise((resolve) => {
      this.suspects.push({ since: Date.now(), start: () => { this.exclusive = true; this.running++; resolve(); } });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => { this.timer = undefined; this.pump(); }, this.settleMs);
  }

  private pump(): void {
    if (this.exclusive) return;
    if (this.suspects.length === 0) {
      this.forced = false;
      for (const start of this.held.splice(0)) start();
      return;
    }
    if (!this.forced && Date.now() - this.suspects[0]!.since >= this.maxWaitMs) this.forced = true;
    if (this.running === 0 && (this.held.length === 0 || this.forced)) {
      this.suspects.pop()!.start();
      return;
    }
    // Ordinary deliveries that arrived while the last suspect ran go first, unless suspects waited too long.
    if (!this.forced) for (const start of this.held.splice(0)) start();
    this.schedule();
  }
}
