import { WarrenError } from '../../errors';
import { assertStreamOffsetArgument } from '../../stream-offset';
import type { DeliveryHandler, Settlement, Subscription, SubscribeOptions, TransportEvents } from '../../transport';
import { refused } from './topology';
import type { MemoryBroker } from './broker';
import { QueueConsumer } from './queue-consumer';
import { MemoryStream } from './stream';
import { StreamConsumer } from './stream-consumer';

type AnyConsumer = QueueConsumer | StreamConsumer;

/** What a subscription needs from its transport. */
export interface SubscriptionHooks {
  /** Declares the subscription's topology again before it re-attaches. */
  declareTopology(): void;
  /** The subscription has closed and drained: the transport may forget it. */
  closed(): void;
}

/**
 * A subscription on the in-memory broker. Like a rabbitmq-client consumer, it comes back by itself
 * when its queue is deleted, provided its topology declares that queue: the topology is declared
 * again and a new consumer attached, reported through `onSubscriptionChange`.
 */
export class MemorySubscription implements Subscription {
  private consumer: AnyConsumer | undefined;
  /** Consumers cancelled by the broker whose handlers may still be running. */
  private readonly cancelled: AnyConsumer[] = [];
  private closing: Promise<void> | undefined;

  constructor(
    private readonly broker: MemoryBroker,
    private readonly options: SubscribeOptions,
    private readonly handler: DeliveryHandler,
    private readonly events: TransportEvents,
    private readonly hooks: SubscriptionHooks,
  ) {}

  get queue(): string {
    return this.options.queue;
  }

  get attached(): boolean {
    return this.consumer !== undefined;
  }

  /**
   * basic.consume: fails with `TopologyError` when the queue is missing or held by an exclusive
   * consumer, or refuses the consumer arguments (as RabbitMQ would), and with
   * `InvalidStreamOffsetError` for an `x-stream-offset` RabbitMQ would not take.
   */
  attach(): void {
    const queue = this.broker.queue(this.options.queue);
    const exclusiveHolder = queue.consumers.some((c) => c.exclusive);
    if (exclusiveHolder || (this.options.exclusive && queue.consumers.length > 0)) {
      throw refused('ACCESS_REFUSED', `queue "${queue.name}" is in exclusive use by another consumer.`);
    }
    const given = this.options.arguments;
    const args = (typeof given === 'function' ? given() : given) ?? {};
    const priority = args['x-priority'];
    if (priority !== undefined && !(typeof priority === 'number' && Number.isInteger(priority))) throw refused('PRECONDITION_FAILED', `invalid arg 'x-priority' for queue "${queue.name}": ${JSON.stringify(priority)}; expected an integer.`);
    const common = {
      concurrency: this.options.concurrency,
      exclusive: this.options.exclusive ?? false,
      onHandlerError: (error: Error) => this.events.onError?.(error),
      onCancelled: () => this.onCancelled(consumer),
      onSettlementDropped: (settlement: Settlement) => this.events.onSettlementDropped?.(this.options.queue, settlement),
    };
    let consumer: AnyConsumer;
    if (queue instanceof MemoryStream) {
      if (!(this.options.prefetch >= 1)) throw refused('PRECONDITION_FAILED', `consumer prefetch count is not set for stream "${queue.name}": a stream consumer needs a prefetch ≥ 1.`);
      if (priority !== undefined) throw refused('PRECONDITION_FAILED', `invalid arg 'x-priority' for queue "${queue.name}" of queue type stream.`);
      assertStreamOffsetArgument(args, queue.name);
      const reader = new StreamConsumer(queue, this.handler, { ...common, prefetch: this.options.prefetch, start: args['x-stream-offset'] });
      consumer = reader;
      this.consumer = consumer;
      reader.begin();
    } else {
      const listener = new QueueConsumer(queue, this.handler, { ...common, prefetch: this.options.prefetch, priority: priority ?? 0 });
      consumer = listener;
      this.consumer = consumer;
      queue.addConsumer(listener);
    }
    this.events.onSubscriptionChange?.(queue.name, true);
  }

  close(timeoutMs?: number): Promise<void> {
    this.closing ??= this.stopConsumers(timeoutMs);
    return this.closing;
  }

  private async stopConsumers(timeoutMs?: number): Promise<void> {
    const consumers = [...this.cancelled.splice(0), ...(this.consumer ? [this.consumer] : [])];
    this.consumer = undefined;
    await Promise.all(consumers.map((c) => c.stop(timeoutMs)));
    this.hooks.closed();
  }

  private onCancelled(consumer: AnyConsumer): void {
    if (this.consumer !== consumer) return;
    this.consumer = undefined;
    this.cancelled.push(consumer);
    this.events.onSubscriptionChange?.(this.options.queue, false, new WarrenError('CONSUMER_CANCELLED', `Queue "${this.options.queue}" was deleted, so the broker cancelled its consumer.`));
    if (this.options.topology?.queues?.some((q) => q.name === this.options.queue)) setImmediate(() => this.reattach());
  }

  private reattach(): void {
    if (this.closing || this.consumer) return;
    try {
      this.hooks.declareTopology();
      this.attach();
    } catch (error) {
      this.events.onError?.(error instanceof Error ? error : new Error(String(error)));
    }
  }
}
