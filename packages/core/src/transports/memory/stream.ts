import type { FieldTable, QueueSpec } from '../../transport';
import type { MessageContent } from './message';
import { intervalMs, type StreamSettings } from './topology';

/** One message in a stream's log. */
export interface StreamEntry {
  readonly offset: number;
  readonly content: MessageContent;
  readonly exchange: string;
  readonly routingKey: string;
  /** `Date.now()` when it was appended: what time-based offsets and `x-max-age` compare with. */
  readonly appendedAt: number;
}

/** What a stream needs of a reader attached to it (a StreamConsumer). */
export interface StreamListener {
  readonly exclusive: boolean;
  /** Messages were appended: deliver what the prefetch allows. */
  appended(): void;
  /** The stream was deleted. */
  cancelledByBroker(): void;
}

interface Segment {
  firstOffset: number;
  bytes: number;
  newestAt: number;
}

/**
 * A stream (`x-queue-type: stream`), as RabbitMQ keeps one: an append-only log of messages, each
 * with an offset; reading takes nothing away, and every reader has its own position. Offsets here
 * are consecutive; RabbitMQ's may skip numbers (its log holds entries of its own), so readers must
 * never count on consecutive offsets.
 *
 * Retention works as RabbitMQ's does: the log is cut into segments of `x-stream-max-segment-size-bytes`
 * (default 500 MB), and when a segment fills up and a new one starts, whole old segments go while the
 * log is over `x-max-length-bytes` or their newest message is older than `x-max-age`. The segment
 * being written is never removed, so a stream may hold more than its limits say.
 */
export class MemoryStream {
  readonly kind = 'queue';
  readonly isStream = true;
  private entries: StreamEntry[] = [];
  private firstOffset = 0;
  private bytes = 0;
  private readonly segments: Segment[] = [];
  private readonly readers: StreamListener[] = [];
  deleted = false;
  /** Marks the stream as already chosen in the routing pass numbered so (as a MemoryQueue). */
  routingPass = 0;

  constructor(
    readonly name: string,
    readonly args: FieldTable | undefined,
    readonly settings: StreamSettings,
  ) {}

  static fromSpec(spec: QueueSpec, settings: StreamSettings): MemoryStream {
    return new MemoryStream(spec.name, spec.arguments, settings);
  }

  readonly durable = true;
  readonly exclusive = false;
  readonly autoDelete = false;

  /** The messages the stream holds (RabbitMQ 3.x reports this in queue.declare-ok; 4.x reports 0). */
  get messageCount(): number {
    return this.entries.length;
  }

  get consumers(): readonly StreamListener[] {
    return this.readers;
  }

  /** The offset the next message will get. */
  get nextOffset(): number {
    return this.firstOffset + this.entries.length;
  }

  /** The oldest offset still held (equal to `nextOffset` when the stream is empty). */
  get oldestOffset(): number {
    return this.firstOffset;
  }

  /** Appends a routed message; a stream never refuses one. */
  enqueue(content: MessageContent, exchange: string, routingKey: string): boolean {
    const now = Date.now();
    const size = content.body.length;
    let segment = this.segments[this.segments.length - 1];
    if (!segment || (segment.bytes > 0 && segment.bytes + size > this.settings.segmentBytes)) {
      segment = { firstOffset: this.nextOffset, bytes: 0, newestAt: now };
      this.segments.push(segment);
      this.applyRetention(now);
    }
    this.entries.push({ offset: this.nextOffset, content, exchange, routingKey, appendedAt: now });
    segment.bytes += size;
    segment.newestAt = now;
    this.bytes += size;
    for (const reader of this.readers) reader.appended();
    return true;
  }

  /** The message at `offset`, or undefined when it is not (or no longer) in the stream. */
  at(offset: number): StreamEntry | undefined {
    return this.entries[offset - this.firstOffset];
  }

  /**
   * Where a reader asking for `x-stream-offset` starts (the argument was checked by the consumer):
   * `first` is the oldest message held, `last` the newest (RabbitMQ: the first of the last chunk),
   * `next` the next one appended; an offset starts there (or at the oldest one held, if retention
   * took it); an interval (`3600s`, `2h`, `7D`…) at the first message appended since then.
   */
  startOffset(argument: unknown): number {
    if (argument === undefined || argument === 'next') return this.nextOffset;
    if (argument === 'first') return this.firstOffset;
    if (argument === 'last') return Math.max(this.firstOffset, this.nextOffset - 1);
    if (typeof argument === 'number') return Math.max(argument, this.firstOffset);
    const since = Date.now() - intervalMs(String(argument));
    const first = this.entries.findIndex((entry) => entry.appendedAt >= since);
    return first === -1 ? this.nextOffset : this.firstOffset + first;
  }

  addConsumer(reader: StreamListener): void {
    this.readers.push(reader);
  }

  removeConsumer(reader: StreamListener): void {
    const index = this.readers.indexOf(reader);
    if (index !== -1) this.readers.splice(index, 1);
  }

  /** Deleted: readers are cancelled and the log dropped. */
  destroy(): void {
    this.deleted = true;
    this.entries = [];
    this.segments.length = 0;
    for (const reader of this.readers.splice(0)) reader.cancelledByBroker();
  }

  /** Removes whole segments from the front, never the one being written, while a limit is exceeded. */
  private applyRetention(now: number): void {
    const { maxLengthBytes, maxAgeMs } = this.settings;
    if (maxLengthBytes === undefined && maxAgeMs === undefined) return;
    while (this.segments.length > 1) {
      const oldest = this.segments[0]!;
      const tooBig = maxLengthBytes !== undefined && this.bytes > maxLengthBytes;
      const tooOld = maxAgeMs !== undefined && oldest.newestAt < now - maxAgeMs;
      if (!tooBig && !tooOld) return;
      const next = this.segments[1]!;
      const removed = next.firstOffset - oldest.firstOffset;
      this.entries.splice(0, removed);
      this.firstOffset = next.firstOffset;
      this.bytes -= oldest.bytes;
      this.segments.shift();
    }
  }
}
