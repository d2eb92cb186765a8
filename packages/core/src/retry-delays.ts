import { InvalidDelayError } from './errors';

/**
 * Retry delays and the queues that hold them. Every distinct delay needs its own TTL queue
 * (`<queue>.retry.<ms>`: a per-queue TTL, so no message waits behind a longer one), so delays are
 * checked up front and mapped onto a bounded set of queues per consumer:
 * - a retry policy's delays get a queue each (at most `attempts - 1` of them, declared at start);
 * - a delay asked for at run time (`retryLater(ms)`) is rounded **up** to the smallest policy delay
 *   or ladder step (below) that is at least as long, so a handler choosing random delays can create
 *   at most `RETRY_DELAY_LADDER.length` more queues, declared on first use.
 */

/** The longest delay Warren schedules: one day. Longer waits belong in a scheduler, not a TTL queue. */
export const MAX_RETRY_DELAY_MS = 86_400_000;

/** The retry-queue buckets a run-time delay is rounded up to (ms): 100 ms … 24 h. */
export const RETRY_DELAY_LADDER: readonly number[] = Object.freeze([
  100, 250, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000,
  1_800_000, 3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000, MAX_RETRY_DELAY_MS,
]);

/** Throws `InvalidDelayError` unless `delayMs` is a whole number of ms from 1 to {@link MAX_RETRY_DELAY_MS}. */
export function assertRetryDelay(delayMs: unknown): asserts delayMs is number {
  if (delayProblem(delayMs) !== undefined) throw new InvalidDelayError(describe(delayMs), MAX_RETRY_DELAY_MS);
}

/** Why `delayMs` is not a schedulable delay, or undefined when it is. */
export function delayProblem(delayMs: unknown): string | undefined {
  if (typeof delayMs !== 'number' || !Number.isInteger(delayMs)) return `must be a whole number of milliseconds (got ${describe(delayMs)})`;
  if (delayMs < 1) return `must be at least 1 ms (got ${delayMs})`;
  if (delayMs > MAX_RETRY_DELAY_MS) return `must be at most ${MAX_RETRY_DELAY_MS} ms, one day (got ${delayMs})`;
  return undefined;
}

/**
 * The delay of the queue a run-time delay waits in: the smallest policy delay or ladder step that is
 * at least `delayMs`. The result is one of at most `policyDelays.size + RETRY_DELAY_LADDER.length` values.
 */
export function retryBucket(delayMs: number, policyDelays: Iterable<number>): number {
  let best = MAX_RETRY_DELAY_MS;
  for (const step of RETRY_DELAY_LADDER) if (step >= delayMs && step < best) best = step;
  for (const step of policyDelays) if (step >= delayMs && step < best) best = step;
  return best;
}

function describe(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean' || value === undefined || value === null) return String(value);
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 40));
  return `a ${typeof value}`;
}
