import type { Delivery, DeliveryHandler, Settlement } from '../../transport';
import { copyProperties } from './field-table';
import { settledWithin } from './queue-consumer';
import type { MemoryStream, StreamEntry, StreamListener } from './stream';

export interface StreamConsumerOptions {
  /** Unacknowledged deliveries at once (≥ 1: a stream consumer needs one, as in RabbitMQ). */
  prefetch: number;
  concurrency: number;
  exclusive: boolean;
  /** The `x-stream-offset` consumer argument (checked), or undefined for `next`. */
  start: unknown;
  onHandlerError(error: Error): void;
  onCancelled(): void;
  onSettlementDropped(settlement: Settlement): void;
}

/**
 * One reader of a stream: it has its own position, from its `x-stream-offset`, and is handed the
 * messages from there on, in offset order, at most `prefetch` unacknowledged, each with the
 * `x-stream-offset` header. Reading takes nothing from the stream.
 *
 * Settlements follow the transport seam's rule for streams: `ack` and `reject` free the prefetch
 * slot; `requeue` keeps it until the consumer stops (nothing goes back into a stream).
 */
export class StreamConsumer implements StreamListener {
  private position: number;
  private unacknowledged = 0;
  private running = 0;
  private readonly inbox: StreamEntry[] = [];
  private scheduled = false;
  private stopped = false;
  private abandoned = false;
  private drained: Promise<void> | undefined;
  private onDrained: (() => void) | undefined;

  constructor(readonly stream: MemoryStream, private readonly handler: DeliveryHandler, private readonly options: StreamConsumerOptions) {
    this.position = stream.startOffset(options.start);
  }

  get exclusive(): boolean {
    return this.options.exclusive;
  }

  /** StreamListener: new messages; take what the prefetch allows. */
  appended(): void {
    this.fill();
  }

  /** Attaches to the stream and starts reading. */
  begin(): void {
    this.stream.addConsumer(this);
    this.fill();
  }

  /** Stops reading; resolves once running handlers have settled, or at `timeoutMs` (their settlements are then dropped). */
  async stop(timeoutMs = Number.POSITIVE_INFINITY): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      this.stream.removeConsumer(this);
      this.unacknowledged -= this.inbox.splice(0).length;
    }
    if (this.running === 0) return;
    this.drained ??= new Promise<void>((resolve) => { this.onDrained = resolve; });
    if (!(await settledWithin(this.drained, timeoutMs))) this.abandoned = true;
  }

  /** StreamListener: the stream was deleted. */
  cancelledByBroker(): void {
    this.stopped = true;
    this.inbox.length = 0;
    this.options.onCancelled();
  }

  /** Takes messages from the stream while the prefetch allows, then schedules their handlers. */
  private fill(): void {
    if (this.stopped) return;
    const stream = this.stream;
    if (this.position < stream.oldestOffset) this.position = stream.oldestOffset;
    while (this.unacknowledged < this.options.prefetch && this.position < stream.nextOffset) {
      const entry = stream.at(this.position++);
      if (!entry) continue;
      this.unacknowledged++;
      this.inbox.push(entry);
    }
    if (this.inbox.length > 0 && !this.scheduled) {
      // Never inside the publish that appended the message: handlers start from a macrotask.
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.startHandlers();
      });
    }
  }

  private startHandlers(): void {
    while (!this.stopped && this.running < this.options.concurrency && this.inbox.length > 0) this.start(this.inbox.shift()!);
  }

  private start(entry: StreamEntry): void {
    this.running++;
    const properties = copyProperties(entry.content.properties);
    properties.headers = { ...properties.headers, 'x-stream-offset': entry.offset };
    const delivery: Delivery = { body: Buffer.from(entry.content.body), properties, exchange: entry.exchange, routingKey: entry.routingKey, queue: this.stream.name, redelivered: false };
    let outcome: Promise<Settlement>;
    try {
      outcome = this.handler(delivery);
    } catch (error) {
      outcome = Promise.reject(error);
    }
    Promise.resolve(outcome).then((settlement) => this.finish(settlement), (error: unknown) => {
      this.options.onHandlerError(error instanceof Error ? error : new Error(String(error)));
      this.finish('reject');
    });
  }

  private finish(settlement: unknown): void {
    this.running--;
    if (this.abandoned) {
      this.options.onSettlementDropped(settlement as Settlement);
      return;
    }
    if (settlement !== 'ack' && settlement !== 'requeue' && settlement !== 'reject') {
      this.options.onHandlerError(new TypeError(`A delivery handler on stream "${this.stream.name}" returned ${String(settlement)}; expected 'ack', 'requeue' or 'reject'. The message was acknowledged.`));
    }
    if (settlement !== 'requeue') this.unacknowledged--;
    if (this.stopped && this.running === 0) this.onDrained?.();
    this.fill();
    this.startHandlers();
  }
}
