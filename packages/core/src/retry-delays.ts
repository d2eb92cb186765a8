import { InvalidDelayError } from './errors';

/**
 * Retry delays. A retry waits in the delay cascade (delay-cascade.ts), which holds any whole number
 * of milliseconds in the same 32 queues, so a delay is used as given: no rounding, and no queue per
 * delay. Delays are still checked up front, and bounded by a policy limit well below the cascade's.
 */

/** The longest retry delay: one day. Longer waits belong in a scheduler, not a retry. */
export const MAX_RETRY_DELAY_MS = 86_400_000;

/** Throws `InvalidDelayError` unless `delayMs` is a whole number of ms from 1 to {@link MAX_RETRY_DELAY_MS}. */
export function assertRetryDelay(delayMs: unknown): asserts delayMs is number {
  if (delayProblem(delayMs) !== undefined) throw new InvalidDelayError(describeValue(delayMs), MAX_RETRY_DELAY_MS);
}

/** Why `delayMs` is not a retry delay, or undefined when it is. */
export function delayProblem(delayMs: unknown): string | undefined {
  if (typeof delayMs !== 'number' || !Number.isInteger(delayMs)) return `must be a whole number of milliseconds (got ${describeValue(delayMs)})`;
  if (delayMs < 1) return `must be at least 1 ms (got ${delayMs})`;
  if (delayMs > MAX_RETRY_DELAY_MS) return `must be at most ${MAX_RETRY_DELAY_MS} ms, one day (got ${delayMs})`;
  return undefined;
}

/** A short, safe description of a value someone passed as a delay (never runs its code). */
export function describeValue(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean' || value === undefined || value === null) return String(value);
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 40));
  return `a ${typeof value}`;
}
