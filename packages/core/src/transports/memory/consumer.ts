import { WarrenError } from '../../errors';
import type { DeliveryHandler, Subscription, SubscribeOptions, TransportEvents } from '../../transport';
import { refused } from './topology';
import type { MemoryBroker } from './broker';
import { QueueConsumer } from './queue-consumer';

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
  private consumer: QueueConsumer | undefined;
  /** Consumers cancelled by the broker whose handlers may still be running. */
  private readonly cancelled: QueueConsumer[] = [];
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

  /** basic.consume: fails with `TopologyError` when the queue is missing or held by an exclusive consumer. */
  attach(): void {
    const queue = this.broker.queue(this.options.queue);
    const exclusiveHolder = queue.consumers.some((c) => c.exclusive);
    if (exclusiveHolder || (this.options.exclusive && queue.consumers.length > 0)) {
      throw refused('ACCESS_REFUSED', `queue "${queue.name}" is in exclusive use by another consumer.`);
    }
    const consumer = new QueueConsumer(queue, this.handler, {
      prefetch: this.options.prefetch,
      concurrency: this.options.concurrency,
      exclusive: this.options.exclusive ?? false,
      onHandlerError: (error) => this.events.onError?.(error),
      onCancelled: () => this.onCancelled(consumer),
      onSettlementDropped: (settlement) => this.events.onSettlementDropped?.(this.options.queue, settlement),
    });
    this.consumer = consumer;
    queue.addConsumer(consumer);
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

  private onCancelled(consumer: QueueConsumer): void {
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
