import type {
  CloseOptions, Delivery, DeliveryHandler, FetchedMessage, OutgoingMessage, PublishOptions, QueueInfo, RequestOptions,
  Subscription, SubscribeOptions, Topology, Transport,
} from '../../src/transport';

/** A transport that does what the one it wraps does: test transports override only what they watch or change. */
export class DelegatingTransport implements Transport {
  constructor(protected readonly inner: Transport) {}
  get description(): string { return this.inner.description; }
  get connected(): boolean { return this.inner.connected; }
  connect(timeoutMs?: number): Promise<void> { return this.inner.connect(timeoutMs); }
  declare(topology: Topology): Promise<void> { return this.inner.declare(topology); }
  publish(message: OutgoingMessage, options?: PublishOptions): Promise<void> { return this.inner.publish(message, options); }
  request(message: OutgoingMessage, options?: RequestOptions): Promise<Delivery> { return this.inner.request(message, options); }
  subscribe(options: SubscribeOptions, handler: DeliveryHandler): Promise<Subscription> { return this.inner.subscribe(options, handler); }
  get(queue: string): Promise<FetchedMessage | undefined> { return this.inner.get(queue); }
  inspectQueue(queue: string): Promise<QueueInfo> { return this.inner.inspectQueue(queue); }
  inspectExchange(exchange: string): Promise<void> { return this.inner.inspectExchange(exchange); }
  purgeQueue(queue: string): Promise<number> { return this.inner.purgeQueue(queue); }
  deleteQueue(queue: string): Promise<void> { return this.inner.deleteQueue(queue); }
  deleteExchange(exchange: string): Promise<void> { return this.inner.deleteExchange(exchange); }
  close(options?: CloseOptions): Promise<void> { return this.inner.close(options); }
}
