import type { ConsumerPlan } from './consumer-plan';
import { abandonContext, type MessageContext } from './context';
import { HandlerTimeoutError } from './errors';
import type { Logger } from './logger';
import type { FieldTable } from './transport';

/**
 * Handler deadlines. A handler that never settles would hold its delivery (and a concurrency slot)
 * until RabbitMQ's `consumer_timeout` closes the whole channel, taking every other unacknowledged
 * message of that channel with it. Warren's own deadline fires first: the handler's `ctx.signal`
 * is aborted and the delivery is settled as a failure with `HANDLER_TIMEOUT` (retried, then
 * dead-lettered), without waiting for the handler. Whatever the handler does later is ignored and
 * logged once. A handler that ignores its signal keeps running in the background: the slot is
 * freed, the work is not stopped.
 */

/** The default handler timeout: 5 minutes, well below RabbitMQ's default `consumer_timeout` (30 minutes). */
export const DEFAULT_HANDLER_TIMEOUT_MS = 300_000;

/**
 * RabbitMQ's default `consumer_timeout` since 3.8.15: 30 minutes. The broker does not tell AMQP
 * clients its setting (it is in rabbitmq.conf, or a `consumer-timeout` policy, or the queue's
 * `x-consumer-timeout` argument on 3.12+), so Warren assumes this unless told otherwise with
 * `brokerConsumerTimeoutMs`, and reads `x-consumer-timeout` from the queue arguments it declares.
 */
export const DEFAULT_BROKER_CONSUMER_TIMEOUT_MS = 1_800_000;

export { MAX_TIMEOUT_MS } from './limits';

/**
 * Runs `call` with a deadline: resolves or rejects as it does, or rejects with
 * `HandlerTimeoutError` after `timeoutMs`, aborting the signal of every context in `contexts`.
 */
export function runWithDeadline<T>(
  call: () => Promise<T>,
  deadline: { consumer: string; timeoutMs: number; contexts: readonly MessageContext[]; logger: Logger },
): Promise<T> {
  const started = Date.now();
  let running: Promise<T>;
  try {
    running = call();
  } catch (error) {
    return Promise.reject(error);
  }
  return new Promise<T>((resolve, reject) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      const error = new HandlerTimeoutError(deadline.consumer, deadline.timeoutMs);
      for (const context of deadline.contexts) abandonContext(context, error);
      reject(error);
    }, deadline.timeoutMs);
    const late = (outcome: 'returned' | 'threw', error?: unknown) => {
      const context = deadline.contexts[0];
      deadline.logger.warn('a handler finished after its timeout; its result was ignored', {
        consumer: deadline.consumer, messageId: context?.messageId, outcome, timeoutMs: deadline.timeoutMs, elapsedMs: Date.now() - started,
        error: outcome === 'threw' ? safeMessage(error) : undefined,
      });
    };
    running.then(
      (value) => { if (timedOut) late('returned'); else { clearTimeout(timer); resolve(value); } },
      (error: unknown) => { if (timedOut) late('threw', error); else { clearTimeout(timer); reject(error); } },
    );
  });
}

/** A consumer whose handler timeout is not below the broker's `consumer_timeout` for its queue. */
export interface ConsumerTimeoutConflict {
  consumer: string;
  queue: string;
  timeoutMs: number;
  brokerConsumerTimeoutMs: number;
}

/**
 * Consumers whose `timeoutMs` is at or above the broker's `consumer_timeout` (the queue's
 * `x-consumer-timeout` argument when it sets one, else `brokerConsumerTimeoutMs`): for them the
 * broker, not Warren, would end a hung handler, by closing the channel.
 */
export function consumerTimeoutConflicts(
  consumers: ReadonlyArray<{ id: string; queue: string; timeoutMs: number; queueArguments?: FieldTable }>,
  brokerConsumerTimeoutMs: number,
): ConsumerTimeoutConflict[] {
  const conflicts: ConsumerTimeoutConflict[] = [];
  for (const consumer of consumers) {
    const own = consumer.queueArguments?.['x-consumer-timeout'];
    const broker = typeof own === 'number' && own > 0 ? own : brokerConsumerTimeoutMs;
    if (consumer.timeoutMs >= broker) conflicts.push({ consumer: consumer.id, queue: consumer.queue, timeoutMs: consumer.timeoutMs, brokerConsumerTimeoutMs: broker });
  }
  return conflicts;
}

/** Logs one warning per consumer whose timeout the broker's `consumer_timeout` would beat. */
export function warnAboutConsumerTimeouts(consumers: readonly ConsumerPlan[], brokerConsumerTimeoutMs = DEFAULT_BROKER_CONSUMER_TIMEOUT_MS, logger: Logger): void {
  const queues = consumers.map((c) => ({ id: c.id, queue: c.queue, timeoutMs: c.timeoutMs, queueArguments: c.topology.queues?.find((q) => q.name === c.queue)?.arguments }));
  for (const conflict of consumerTimeoutConflicts(queues, brokerConsumerTimeoutMs)) {
    logger.warn('a handler timeout is not below the broker\'s consumer_timeout: a hung handler would be ended by the broker closing the channel (all its unacknowledged messages redelivered), not by Warren. Lower timeoutMs, or raise consumer_timeout and set brokerConsumerTimeoutMs to match', { ...conflict });
  }
}

function safeMessage(error: unknown): string {
  try {
    return error instanceof Error ? error.message : typeof error === 'string' ? error : 'a non-Error value';
  } catch {
    return 'an unreadable error';
  }
}
