import type { ConsumerPlan } from './consumer-plan';
import { ConfigurationError, InvalidStreamOffsetError } from './errors';
import type { OffsetStore } from './offset-store';
import { createDeliveryHandler, type PipelineDeps, type SettledEvent } from './pipeline';
import { parseStreamOffset, STREAM_OFFSET_HEADER, type StreamOffset } from './stream-offset';
import { StreamReader } from './stream-reader';
import type { Delivery } from './transport';

/** How long a finished replay waits for its running handlers before it detaches anyway. */
const REPLAY_DRAIN_MS = 30_000;

/** Options of `app.replay()`. */
export interface StreamReplayOptions {
  /** Where to start reading: an offset, a `Date`, a span back from now (`'2h'`), or `'first'`. */
  since: StreamOffset;
  /**
   * The last offset to replay. Default: the consumer's position, i.e. everything it has processed
   * so far (its live reader's in this app, else its stored offset); messages after it are the live
   * consumer's to read anyway.
   */
  until?: number;
  /** Stop once nothing has arrived for this long (default 3,000 ms): the range holds no more messages. */
  idleMs?: number;
  /** Stop after this long in any case (default 10 minutes). */
  timeoutMs?: number;
}

/** What a replay did. */
export interface StreamReplayReport {
  /** `Class.method` of the consumer whose handler ran. */
  consumer: string;
  stream: string;
  /** The last offset it was to replay, if one was known. */
  until?: number;
  /** The first and last offsets it read within the range. */
  first?: number;
  last?: number;
  /** Messages the handler processed successfully. */
  handled: number;
  /** Messages that failed and went to the consumer's dead-letter queue. */
  deadLettered: number;
  /** Why it stopped: it reached `until`, nothing more arrived, or its time ran out. */
  stoppedBy: 'until' | 'idle' | 'timeout';
}

/**
 * Reads a stream consumer's stream again from `since`, through the consumer's own pipeline
 * (decode, validation, handler, in-process retries, dead-lettering), as a second reader: it has
 * its own position, stores nothing, and leaves the consumer's stored offset alone. It stops after
 * `until` (by default where the consumer is), or when nothing arrives for `idleMs`.
 *
 * The handler sees each replayed message as it saw the first time, with `ctx.streamOffset`;
 * handlers that must not repeat an effect should be idempotent (or check the offset).
 */
export async function replayStream(plan: ConsumerPlan, deps: PipelineDeps, position: { store: OffsetStore; live?: StreamReader }, options: StreamReplayOptions): Promise<StreamReplayReport> {
  if (!plan.stream) throw new ConfigurationError(`${plan.id} does not consume a stream (queueType '${plan.queueType}'): only streams can be replayed. For a dead-letter queue use warren dlq replay.`);
  const start = parseStreamOffset(options.since, `replay of ${plan.id}: since`);
  const until = options.until ?? position.live?.position ?? (await position.store.load(plan.stream.offsetName));
  if (until !== undefined && !(Number.isSafeInteger(until) && until >= 0)) throw new InvalidStreamOffsetError(`replay of ${plan.id}: until ${JSON.stringify(until)} is not a whole number ≥ 0.`);
  const idleMs = options.idleMs ?? 3000;
  const timeoutMs = options.timeoutMs ?? 600_000;
  const report: StreamReplayReport = { consumer: plan.id, stream: plan.queue, until, handled: 0, deadLettered: 0, stoppedBy: 'until' };
  if (until !== undefined && start.kind === 'offset' && start.offset > until) return report;

  await deps.transport.inspectQueue(plan.queue).catch((error: Error) => {
    throw /NOT_FOUND/.test(error.message) ? new ConfigurationError(`The stream "${plan.queue}" of ${plan.id} does not exist on ${deps.transport.description}: there is nothing to replay.`, { cause: error }) : error;
  });
  const reader = new StreamReader({ consumer: plan.id, start, window: plan.prefetch, logger: deps.logger, until });
  const count = (event: SettledEvent) => {
    if (event.outcome === 'handled' || event.outcome === 'replied') report.handled++;
    else if (event.outcome === 'dead-lettered' || event.outcome === 'rejected') report.deadLettered++;
    deps.onSettled?.(event);
  };
  const handler = createDeliveryHandler(plan, { ...deps, streamReader: reader, onSettled: count });
  let running = 0;
  let lastActivity = Date.now();
  const tracked = async (delivery: Delivery) => {
    running++;
    lastActivity = Date.now();
    const offset = delivery.properties.headers?.[STREAM_OFFSET_HEADER];
    try {
      const settlement = await handler(delivery);
      if (typeof offset === 'number' && (until === undefined || offset <= until)) {
        report.first ??= offset;
        report.last = Math.max(report.last ?? offset, offset);
      }
      return settlement;
    } finally {
      running--;
      lastActivity = Date.now();
    }
  };
  deps.logger.info('replaying a stream', { consumer: plan.id, stream: plan.queue, since: String(options.since instanceof Date ? options.since.toISOString() : options.since), until });
  const subscription = await deps.transport.subscribe({
    queue: plan.queue, prefetch: plan.prefetch, concurrency: plan.concurrency, stream: true,
    arguments: () => ({ [STREAM_OFFSET_HEADER]: reader.startArgument() }),
  }, tracked);
  const started = Date.now();
  try {
    report.stoppedBy = await new Promise<StreamReplayReport['stoppedBy']>((resolve) => {
      const poll = setInterval(() => {
        if (running === 0 && Date.now() - lastActivity >= idleMs) done('idle');
        else if (Date.now() - started >= timeoutMs) done('timeout');
      }, Math.min(100, idleMs));
      const done = (why: StreamReplayReport['stoppedBy']) => { clearInterval(poll); resolve(why); };
      void reader.finished.then(() => done('until'));
    });
  } finally {
    reader.stop();
    await subscription.close(REPLAY_DRAIN_MS);
  }
  deps.logger.info('stream replay finished', { consumer: plan.id, handled: report.handled, deadLettered: report.deadLettered, first: report.first, last: report.last, stoppedBy: report.stoppedBy });
  return report;
}
