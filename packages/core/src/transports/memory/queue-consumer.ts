import type { Delivery, DeliveryHandler, Settlement } from '../../transport';
import { Deque } from './deque';
import { copyProperties } from './field-table';
import type { QueuedMessage } from './message';
import type { MemoryQueue } from './queue';

/** How many handlers a consumer starts from promise callbacks before yielding to the event loop. */
const STARTS_PER_TURN = 512;

export interface ConsumerOptions {
  /** Unacknowledged deliveries at once; 0 means no limit (as basic.qos does). */
  prefetch: number;
  concurrency: number;
  exclusive: boolean;
  /** `x-priority`: the queue serves the highest-priority consumers with room first (default 0). */
  priority?: number;
  /** Called when the handler throws or returns something that is not a settlement. */
  onHandlerError(error: Error): void;
  /** Called when the broker cancels the consumer (its queue was deleted). */
  onCancelled(): void;
  /** Called when a handler finishes after the consumer gave its message back (see {@link QueueConsumer.stop}). */
  onSettlementDropped(settlement: Settlement): void;
}

/**
 * One consumer on one queue: the broker pushes up to `prefetch` messages to it, and it runs at most
 * `concurrency` handlers at once on them, oldest first.
 *
 * Handlers always start from a macrotask or a promise callback, never inside the `publish()` that
 * routed the message. A handler's settlement starts the next handler straight away, up to
 * STARTS_PER_TURN times before the consumer yields with setImmediate, so timers and I/O still run
 * while a long backlog drains. Each concurrency slot is one reusable object carrying its message, so
 * a delivery costs no closures.
 */
export class QueueConsumer {
  private readonly inbox = new Deque<QueuedMessage>();
  private readonly idleSlots: HandlerSlot[] = [];
  private readonly prefetch: number;
  private readonly concurrency: number;
  private unacknowledged = 0;
  private running = 0;
  private startBudget = STARTS_PER_TURN;
  private scheduled = false;
  private stopped = false;
  /** Set at the shutdown deadline: running handlers' messages went back to the queue, their settlements are dropped. */
  private abandoned = false;
  private readonly busy = new Set<HandlerSlot>();
  private drained: Promise<void> | undefined;
  private onDrained: (() => void) | undefined;
  private readonly runScheduled = () => {
    this.scheduled = false;
    this.startBudget = STARTS_PER_TURN;
    this.startHandlers();
  };

  constructor(readonly queue: MemoryQueue, private readonly handler: DeliveryHandler, private readonly options: ConsumerOptions) {
    this.prefetch = options.prefetch > 0 ? options.prefetch : Infinity;
    this.concurrency = Math.max(1, Math.min(options.concurrency || 1, this.prefetch));
  }

  get exclusive(): boolean {
    return this.options.exclusive;
  }

  get priority(): number {
    return this.options.priority ?? 0;
  }

  get hasCapacity(): boolean {
    return !this.stopped && this.unacknowledged < this.prefetch;
  }

  /** Called by the queue: the message is now unacknowledged by this consumer. */
  deliver(message: QueuedMessage): void {
    this.unacknowledged++;
    this.inbox.push(message);
    this.schedule();
  }

  /**
   * basic.cancel from the client side: no more deliveries; hands back delivered-but-unstarted
   * messages (as closing the channel would) and resolves once running handlers have settled, or at
   * `timeoutMs`: then the running handlers' messages go back to the queue too (as a destroyed
   * channel's would) and their settlements, when they come, are dropped.
   */
  async stop(timeoutMs = Number.POSITIVE_INFINITY): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      this.queue.removeConsumer(this);
    }
    this.requeueAll(this.inbox.drain());
    if (this.running === 0) return;
    this.drained ??= new Promise<void>((resolve) => { this.onDrained = resolve; });
    const inTime = await settledWithin(this.drained, timeoutMs);
    if (inTime || this.abandoned) return;
    this.abandoned = true;
    this.requeueAll([...this.busy].map((slot) => slot.message!));
  }

  private requeueAll(messages: QueuedMessage[]): void {
    this.unacknowledged -= messages.length;
    for (const message of messages) this.queue.requeue(message);
    if (messages.length > 0) this.queue.dispatch();
  }

  /** The queue was deleted: its messages are gone, and settlements of running handlers are ignored. */
  cancelledByBroker(): void {
    this.stopped = true;
    this.inbox.drain();
    this.options.onCancelled();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.runScheduled);
  }

  private startHandlers(): void {
    while (!this.stopped && this.running < this.concurrency && this.inbox.length > 0) {
      if (this.startBudget-- <= 0) {
        this.schedule();
        return;
      }
      this.start(this.inbox.shift()!);
    }
  }

  private start(message: QueuedMessage): void {
    const slot = this.idleSlots.pop() ?? new HandlerSlot(this);
    slot.message = message;
    this.busy.add(slot);
    this.running++;
    const content = message.content;
    const delivery: Delivery = {
      body: Buffer.from(content.body),
      properties: copyProperties(content.properties),
      exchange: message.exchange,
      routingKey: message.routingKey,
      queue: this.queue.name,
      redelivered: message.redelivered,
    };
    let outcome: Promise<Settlement>;
    try {
      outcome = this.handler(delivery);
    } catch (error) {
      outcome = Promise.reject(error);
    }
    Promise.resolve(outcome).then(slot.settle, slot.fail);
  }

  /** @internal Called by a slot when its handler has finished. */
  finish(slot: HandlerSlot, settlement: unknown): void {
    const message = slot.message!;
    slot.message = undefined;
    this.busy.delete(slot);
    this.idleSlots.push(slot);
    this.running--;
    if (this.abandoned) {
      this.options.onSettlementDropped(settlement as Settlement);
      return;
    }
    this.unacknowledged--;
    if (settlement !== 'ack' && settlement !== 'requeue' && settlement !== 'reject') {
      this.options.onHandlerError(new TypeError(`A delivery handler on queue "${this.queue.name}" returned ${String(settlement)}; expected 'ack', 'requeue' or 'reject'. The message was rejected.`));
      settlement = 'reject';
    }
    if (settlement === 'requeue') this.queue.requeue(message);
    else if (settlement === 'reject') this.queue.reject(message);
    if (this.stopped && this.running === 0) this.onDrained?.();
    this.queue.dispatch();
    this.startHandlers();
  }

  /** @internal */
  fail(slot: HandlerSlot, error: unknown): void {
    // A handler must turn every failure into a settlement; throwing is a bug, so reject (no loop).
    this.options.onHandlerError(error instanceof Error ? error : new Error(String(error)));
    this.finish(slot, 'reject');
  }
}

/** One concurrency slot of a consumer; its two callbacks are made once and reused for every delivery. */
class HandlerSlot {
  message: QueuedMessage | undefined;
  readonly settle: (settlement: Settlement) => void;
  readonly fail: (error: unknown) => void;

  constructor(consumer: QueueConsumer) {
    this.settle = (settlement) => consumer.finish(this, settlement);
    this.fail = (error) => consumer.fail(this, error);
  }
}

/** True once `promise` settles, false when `timeoutMs` passes first (Infinity: no deadline). */
export async function settledWithin(promise: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise.then(() => true, () => true),
      new Promise<boolean>((resolve) => { if (Number.isFinite(timeoutMs)) timer = setTimeout(() => resolve(false), Math.max(0, timeoutMs)); }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
