import type { ConsumerPlan } from './consumer-plan';
import { ConfigurationError } from './errors';
import type { Logger } from './logger';
import { MemoryOffsetStore, type OffsetStore } from './offset-store';
import type { PipelineDeps } from './pipeline';
import { STREAM_OFFSET_HEADER } from './stream-offset';
import { StreamReader } from './stream-reader';
import { replayStream, type StreamReplayOptions, type StreamReplayReport } from './stream-replay';
import type { SubscribeOptions } from './transport';

/**
 * The stream readers of one app: one per stream consumer, with its offset store, plus the consumer
 * arguments every subscription needs (`x-stream-offset` computed at each attach, `x-priority`).
 */
export class StreamReaders {
  private readonly readers = new Map<string, StreamReader>();
  readonly store: OffsetStore;

  /** `durableBroker`: the app consumes from RabbitMQ, where a restart with in-memory offsets starts over (worth a warning). */
  constructor(store: OffsetStore | undefined, private readonly pipeline: PipelineDeps, durableBroker: boolean, plans: readonly ConsumerPlan[]) {
    this.store = store ?? new MemoryOffsetStore();
    for (const plan of plans) {
      if (!plan.stream) continue;
      const other = plans.find((p) => p !== plan && p.queue === plan.queue);
      if (other) throw new ConfigurationError(`${plan.id}: a stream consumer needs its stream to itself in one app (its offset is tracked per reader), and "${plan.queue}" is also consumed by ${other.id}. Handle both in one method, or run them in separate services.`);
      this.readers.set(plan.id, new StreamReader({
        consumer: plan.id, start: plan.stream.start, window: plan.prefetch, logger: pipeline.logger,
        tracking: { name: plan.stream.offsetName, store: this.store, every: plan.stream.commitEvery, intervalMs: plan.stream.commitIntervalMs },
      }));
    }
    if (!store && this.readers.size > 0 && durableBroker) {
      pipeline.logger.warn('stream consumers keep their offsets in memory: after a restart they start again from their offset option. Pass offsetStore (e.g. PostgresOffsetStore) to resume where they stopped.', { consumers: [...this.readers.keys()] });
    }
  }

  /** The reader of a stream consumer; undefined for other consumers. */
  readerFor(plan: ConsumerPlan): StreamReader | undefined {
    return this.readers.get(plan.id);
  }

  /** Loads the stored offset of a stream consumer before it attaches. */
  async open(plan: ConsumerPlan): Promise<void> {
    await this.readers.get(plan.id)?.open();
  }

  /** What a consumer's subscription adds to queue, prefetch and concurrency: stream settings, priority. */
  subscribeOptions(plan: ConsumerPlan): Pick<SubscribeOptions, 'arguments' | 'stream'> {
    const reader = this.readers.get(plan.id);
    if (reader) return { stream: true, arguments: () => ({ [STREAM_OFFSET_HEADER]: reader.startArgument() }) };
    return plan.priority === undefined ? {} : { arguments: { 'x-priority': plan.priority } };
  }

  /** Before the transport drains: no new message starts, in-process retry pauses end. */
  stop(): void {
    for (const reader of this.readers.values()) reader.stop();
  }

  /** After the transport drained: every reader stores its last offset, within `timeoutMs` in all. */
  async flush(timeoutMs: number): Promise<void> {
    await Promise.all([...this.readers.values()].map((reader) => reader.flush(timeoutMs)));
  }

  /** A second reader of the stream of `consumer` (`Class.method` or its queue), see {@link replayStream}. */
  async replay(plans: readonly ConsumerPlan[], consumer: string, options: StreamReplayOptions): Promise<StreamReplayReport> {
    const plan = plans.find((c) => c.id === consumer || c.queue === consumer);
    if (!plan) throw new ConfigurationError(`No consumer ${consumer} in this app; its consumers are ${plans.map((c) => c.id).join(', ') || '(none)'}.`);
    return replayStream(plan, this.pipeline, { store: this.store, live: this.readers.get(plan.id) }, options);
  }
}
