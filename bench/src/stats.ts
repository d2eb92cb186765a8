/** Small, dependency-free statistics and measuring helpers. */

/** The middle value (the mean of the two middle ones for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Nearest-rank percentile (p in 0–100) of unsorted values; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function min(values: readonly number[]): number {
  return values.length ? Math.min(...values) : NaN;
}

export function max(values: readonly number[]): number {
  return values.length ? Math.max(...values) : NaN;
}

/** Process CPU time (user + system) in µs: the client's cost, whatever thread of the process spent it. */
export function cpuMicros(): number {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
}

/** A stopwatch for one measured window: wall time and client CPU between `start()` and `stop()`. */
export class Window {
  private wallStart = 0;
  private cpuStart = 0;
  private broker = 0;
  wallMs = 0;
  cpuUs = 0;
  /** Broker CPU as a share of one core over the window, when the broker runs on this machine. */
  brokerCpuPercent: number | undefined;

  constructor(private readonly brokerCpu?: () => number | undefined) {}

  start(): void {
    this.broker = this.brokerCpu?.() ?? NaN;
    this.cpuStart = cpuMicros();
    this.wallStart = performance.now();
  }

  stop(): void {
    this.wallMs = performance.now() - this.wallStart;
    this.cpuUs = cpuMicros() - this.cpuStart;
    const brokerNow = this.brokerCpu?.();
    if (brokerNow !== undefined && Number.isFinite(this.broker)) this.brokerCpuPercent = ((brokerNow - this.broker) / 1000 / this.wallMs) * 100;
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `send(i)` for i in 0..count-1 with at most `window` calls in flight: the publish window of
 * issue 6 (both sides use it, so the comparison is of the clients, not of the pacing).
 */
export async function windowed(count: number, window: number, send: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await send(next++);
  };
  await Promise.all(Array.from({ length: Math.min(window, count) }, worker));
}


/**
 * Counts handled messages and times the drain: the window opens at the first message and closes at
 * the `target`-th, inside the handler, so neither side pays for connection set-up or for the poll
 * that notices the end. `done` resolves when the target is reached.
 */
export class DrainCounter {
  count = 0;
  readonly window: Window;
  readonly done: Promise<void>;
  private resolve!: () => void;

  constructor(readonly target: number, brokerCpu?: () => number | undefined) {
    this.window = new Window(brokerCpu);
    this.done = new Promise((resolve) => { this.resolve = resolve; });
  }

  hit(): void {
    if (++this.count === 1) this.window.start();
    if (this.count === this.target) {
      this.window.stop();
      this.resolve();
    }
  }

  /** Messages per second between the first and the last message (the first opens the window). */
  get perSecond(): number {
    return ((this.target - 1) / this.window.wallMs) * 1000;
  }

  /** Client CPU per message over the window, in µs. */
  get cpuPerMessage(): number {
    return this.window.cpuUs / (this.target - 1);
  }

  /** Rejects if the target is not reached in time, naming how far it got. */
  within(timeoutMs: number, what: string): Promise<void> {
    let timer: NodeJS.Timeout;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: only ${this.count} of ${this.target} messages after ${timeoutMs} ms`)), timeoutMs);
    });
    return Promise.race([this.done, timeout]).finally(() => clearTimeout(timer));
  }
}
