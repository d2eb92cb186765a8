import type { ConsumerPlan } from './consumer-plan';
import { ConfigurationError } from './errors';

/**
 * Ranges the broker and Node.js accept, checked when the app starts so a bad value fails at once
 * with a ConfigurationError naming it, not later on the broker ("value out of range" after the
 * connect timeout) or in a timer.
 */

/** basic.qos prefetch-count is an unsigned 16-bit field. */
export const MAX_PREFETCH = 65_535;

/** Longer timers fire at once in Node.js (they overflow a signed 32-bit millisecond count). */
export const MAX_TIMEOUT_MS = 2_147_483_647;

/** A timeout or TTL in ms: a whole number from 1 to {@link MAX_TIMEOUT_MS}. */
export function isTimeout(value: unknown, min = 1): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= MAX_TIMEOUT_MS;
}

export function assertTimeout(value: unknown, what: string, min = 1): void {
  if (!isTimeout(value, min)) throw new ConfigurationError(`${what} must be a whole number of milliseconds from ${min} to ${MAX_TIMEOUT_MS} (got ${String(value)}).`);
}

/** Checks what planning a consumer leaves to the broker and timers; lists every problem of one consumer. */
export function assertConsumerLimits(plan: ConsumerPlan): void {
  const problems: string[] = [];
  if (!(plan.prefetch >= 1 && plan.prefetch <= MAX_PREFETCH)) problems.push(`prefetch must be from 1 to ${MAX_PREFETCH} (got ${plan.prefetch}): RabbitMQ's basic.qos cannot carry more`);
  if (!(plan.concurrency >= 1 && plan.concurrency <= plan.prefetch)) problems.push(`concurrency must be from 1 to prefetch (${plan.prefetch}) (got ${plan.concurrency})`);
  if (!(Number.isInteger(plan.maxBodyBytes) && plan.maxBodyBytes >= 1)) problems.push(`maxBodyBytes must be a whole number ≥ 1 (got ${String(plan.maxBodyBytes)})`);
  if (plan.batch && !isTimeout(plan.batch.timeMs, 0)) problems.push(`batch.timeMs must be a whole number of milliseconds from 0 to ${MAX_TIMEOUT_MS} (got ${String(plan.batch.timeMs)})`);
  if (problems.length) throw new ConfigurationError(`${plan.id}: ${problems.join('; ')}.`);
}
