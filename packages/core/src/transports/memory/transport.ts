import { randomBytes } from 'node:crypto';
import { ConnectionError, PublishError, RequestTimeoutError, UnroutableError, WarrenError } from '../../errors';
import { MemoryBroker } from './broker';
import { FRAME_MAX, headerFrameSize } from '../../frame-size';
import { copyProperties } from './field-table';
import { MemorySubscription } from './consumer';
import type { MemoryQueue } from './queue';
import { MemoryStream } from './stream';
import { refused } from './topology';
import type {
  CloseOptions,
  Delivery, DeliveryHandler, FetchedMessage, OutgoingMessage, PublishOptions, QueueInfo, RequestOptions,
  Subscription, SubscribeOptions, Topology, Transport, TransportEvents,
} from '../../transport';

/** Options of {@link MemoryTransport}. */
export interface MemoryTransportOptions {
  events?: TransportEvents;
}

/** RabbitMQ's prefix for direct reply-to addresses; replies published to one skip the queues. */
const REPLY_TO_PREFIX = 'amq.rabbitmq.reply-to.';

interface PendingReply {
  correlationId: string;
  resolve(delivery: Delivery): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * The embedded broker: RabbitMQ's exchanges, queues, acknowledgements, dead-lettering and TTL in
 * this process, behind the same {@link Transport} interface as `AmqpTransport`. The conformance suite
 * (`test/conformance`) runs the same tests against both; `docs/in-memory-broker.md` lists where it
 * deliberately differs (no persistence, nothing shared between processes, TTL timing).
 *
 * Every transport is its own virtual host: two instances share nothing.
 *
 * @example
 * ```ts
 * const transport = new MemoryTransport();
 * await transport.declare({
 *   exchanges: [{ name: 'orders', type: 'topic' }],
 *   queues: [{ name: 'billing', arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'billing.dlq' } }, { name: 'billing.dlq' }],
 *   bindings: [{ exchange: 'orders', queue: 'billing', routingKey: 'order.*' }],
 * });
 * await transport.subscribe({ queue: 'billing', prefetch: 10, concurrency: 1 }, async (delivery) => 'ack');
 * await transport.publish({ exchange: 'orders', routingKey: 'order.created', body: Buffer.from('{}'), properties: {} });
 * await transport.close();
 * ```
 */
export class MemoryTransport implements Transport {
  readonly description = 'memory';
  private readonly broker = new MemoryBroker();
  private readonly events: TransportEvents;
  private readonly subscriptions = new Set<MemorySubscription>();
  private readonly pendingReplies = new Map<string, PendingReply>();
  private readonly replyPrefix = `${REPLY_TO_PREFIX}${randomBytes(6).toString('hex')}.`;
  private replyCount = 0;
  private announced = false;
  /** Set when close() starts: no new subscriptions or requests, but draining handlers may still publish and settle. */
  private closing: Promise<void> | undefined;
  private closed = false;

  constructor(options: MemoryTransportOptions = {}) {
    this.events = options.events ?? {};
  }

  get connected(): boolean {
    return !this.closed;
  }

  async connect(): Promise<void> {
    this.assertOpen();
    if (!this.announced) {
      this.announced = true;
      this.events.onConnect?.();
    }
  }

  async declare(topology: Topology): Promise<void> {
    this.assertOpen();
    this.applyTopology(topology);
  }

  async publish(message: OutgoingMessage, options: PublishOptions = {}): Promise<void> {
    this.assertOpen();
    const { exchange, routingKey } = message;
    // Copies first: from here on the publisher's objects and the broker's never meet.
    const properties = copyProperties(message.properties);
    const frameSize = headerFrameSize(properties);
    if (frameSize > FRAME_MAX) {
      throw new PublishError(`Publishing to exchange "${exchange}" with routing key "${routingKey}" failed (CODEC): frame size of ${frameSize} bytes exceeds maximum of ${FRAME_MAX}; the message's properties and headers must fit in one frame.`);
    }
    if (exchange === '' && routingKey.startsWith(REPLY_TO_PREFIX)) return this.reply(routingKey, Buffer.from(message.body), properties);
    const outcome = this.broker.publish(exchange, routingKey, Buffer.from(message.body), properties);
    if (outcome === 'unroutable' && message.mandatory) throw new UnroutableError(exchange, routingKey);
    if (outcome === 'refused' && (options.confirm ?? true)) {
      throw new PublishError(`Publishing to exchange "${exchange}" with routing key "${routingKey}" failed (NACK): a queue it routes to is full and its x-overflow is reject-publish. Consume or purge the queue, or raise its x-max-length.`);
    }
  }

  async request(message: OutgoingMessage, options: RequestOptions = {}): Promise<Delivery> {
    this.assertAccepting();
    const timeoutMs = options.timeoutMs ?? 30_000;
    const replyTo = `${this.replyPrefix}${++this.replyCount}`;
    const correlationId = message.properties.correlationId ?? String(this.replyCount);
    const reply = new Promise<Delivery>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pendingReplies.delete(replyTo);
        reject(new RequestTimeoutError(message.exchange, message.routingKey, timeoutMs));
      }, timeoutMs);
      this.pendingReplies.set(replyTo, { correlationId, resolve, reject, timer });
    });
    try {
      await this.publish({ ...message, properties: { ...message.properties, replyTo, correlationId } });
    } catch (error) {
      const pending = this.pendingReplies.get(replyTo);
      this.pendingReplies.delete(replyTo);
      if (pending) clearTimeout(pending.timer);
      throw error;
    }
    return reply;
  }

  async subscribe(options: SubscribeOptions, handler: DeliveryHandler): Promise<Subscription> {
    this.assertAccepting();
    const topology = options.topology;
    if (topology) this.applyTopology(topology);
    const subscription: MemorySubscription = new MemorySubscription(this.broker, options, handler, this.events, {
      declareTopology: () => { if (topology && !this.closing) this.applyTopology(topology); },
      closed: () => this.subscriptions.delete(subscription),
    });
    subscription.attach();
    this.subscriptions.add(subscription);
    return subscription;
  }

  async get(queueName: string): Promise<FetchedMessage | undefined> {
    this.assertOpen();
    const queue = this.notStream(queueName, 'basic.get');
    const message = queue.take();
    if (!message) return undefined;
    let settled = false;
    const settle = async (requeue: boolean | undefined): Promise<void> => {
      this.assertOpen();
      if (settled) throw new WarrenError('ALREADY_SETTLED', 'This message was already acknowledged or rejected.');
      settled = true;
      if (requeue === true) queue.requeue(message);
      else if (requeue === false) queue.reject(message);
      queue.dispatch();
    };
    return {
      body: Buffer.from(message.content.body),
      properties: copyProperties(message.content.properties),
      exchange: message.exchange,
      routingKey: message.routingKey,
      queue: queueName,
      redelivered: message.redelivered,
      messageCount: queue.messageCount,
      ack: () => settle(undefined),
      nack: (requeue) => settle(requeue),
    };
  }

  async inspectQueue(queueName: string): Promise<QueueInfo> {
    this.assertOpen();
    const queue = this.broker.queue(queueName);
    return { queue: queueName, messageCount: queue.messageCount, consumerCount: queue.consumers.length };
  }

  async inspectExchange(exchange: string): Promise<void> {
    this.assertOpen();
    this.broker.inspectExchange(exchange);
  }

  async purgeQueue(queueName: string): Promise<number> {
    this.assertOpen();
    return this.notStream(queueName, 'queue.purge').purge();
  }

  async deleteQueue(queueName: string): Promise<void> {
    this.assertOpen();
    this.broker.deleteQueue(queueName);
  }

  async deleteExchange(exchange: string): Promise<void> {
    this.assertOpen();
    this.broker.deleteExchange(exchange);
  }

  /**
   * Drains every subscription (their handlers may still publish and settle) for up to `timeoutMs`
   * (default 30 s; then the running handlers' messages go back to their queues), fails pending
   * requests, then stops the broker.
   */
  close(options: CloseOptions = {}): Promise<void> {
    this.closing ??= this.shutDown(options.timeoutMs ?? 30_000);
    return this.closing;
  }

  private async shutDown(timeoutMs: number): Promise<void> {
    await Promise.allSettled([...this.subscriptions].map((s) => s.close(timeoutMs)));
    for (const pending of this.pendingReplies.values()) {
      clearTimeout(pending.timer);
      pending.reject(new ConnectionError('CLOSED', 'The in-memory transport was closed before the reply arrived.'));
    }
    this.pendingReplies.clear();
    this.closed = true;
    this.broker.close();
  }

  private applyTopology(topology: Topology): void {
    for (const exchange of topology.exchanges ?? []) this.broker.declareExchange(exchange);
    for (const queue of topology.queues ?? []) this.broker.declareQueue(queue);
    for (const binding of topology.exchangeBindings ?? []) this.broker.bindExchange(binding);
    for (const binding of topology.bindings ?? []) this.broker.bindQueue(binding);
  }

  /** Direct reply-to: straight to the waiting request; a reply nobody waits for is dropped, as RabbitMQ does. */
  private reply(replyTo: string, body: Buffer, properties: Delivery['properties']): void {
    const pending = this.pendingReplies.get(replyTo);
    // Like rabbitmq-client's RPC client, a reply must carry the request's correlation id.
    if (!pending || properties.correlationId !== pending.correlationId) return;
    this.pendingReplies.delete(replyTo);
    clearTimeout(pending.timer);
    pending.resolve({ body, properties, exchange: '', routingKey: replyTo, queue: '', redelivered: false });
  }

  /** A classic or quorum queue; a stream refuses the operation (RabbitMQ closes the whole connection for it: NOT_IMPLEMENTED). */
  private notStream(queueName: string, operation: string): MemoryQueue {
    const queue = this.broker.queue(queueName);
    if (queue instanceof MemoryStream) throw refused('NOT_IMPLEMENTED', `${operation} is not supported by stream queues (queue "${queueName}"). Read a stream with a consumer.`);
    return queue;
  }

  private assertOpen(): void {
    if (this.closed) throw new ConnectionError('CLOSED', 'The in-memory transport is closed; create a new one.');
  }

  /** Subscriptions and requests outlive the call, so they are refused as soon as close() has started. */
  private assertAccepting(): void {
    if (this.closing) throw new ConnectionError('CLOSED', 'The in-memory transport is closing or closed; create a new one.');
  }
}
