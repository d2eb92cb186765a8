import type {
  Delivery, DeliveryHandler, FetchedMessage, OutgoingMessage, PublishOptions, QueueInfo, RequestOptions, Settlement,
  Subscription, SubscribeOptions, Topology, Transport,
} from '../../src/transport';

/** What the fuzz test watches at the transport seam: every publish the app makes, every delivery and how it was settled. */
export interface TransportObserver {
  published(message: OutgoingMessage): void;
  delivered(delivery: Delivery): void;
  settled(delivery: Delivery, settlement: Settlement | undefined, thrown: unknown): void;
}

/** A transport that reports to an observer and otherwise does what the one it wraps does. */
export class ObservedTransport implements Transport {
  constructor(private readonly inner: Transport, private readonly observer: TransportObserver, private readonly ownsInner = true) {}
  get description(): string { return this.inner.description; }
  get connected(): boolean { return this.inner.connected; }
  connect(timeoutMs?: number): Promise<void> { return this.inner.connect(timeoutMs); }
  declare(topology: Topology): Promise<void> { return this.inner.declare(topology); }
  publish(message: OutgoingMessage, options?: PublishOptions): Promise<void> {
    this.observer.published(message);
    return this.inner.publish(message, options);
  }
  request(message: OutgoingMessage, options?: RequestOptions): Promise<Delivery> { return this.inner.request(message, options); }
  subscribe(options: SubscribeOptions, handler: DeliveryHandler): Promise<Subscription> {
    return this.inner.subscribe(options, async (delivery) => {
      this.observer.delivered(delivery);
      let settlement: Settlement | undefined;
      try {
        settlement = await handler(delivery);
      } catch (thrown) {
        this.observer.settled(delivery, undefined, thrown ?? new Error('undefined was thrown'));
        throw thrown;
      }
      this.observer.settled(delivery, settlement, undefined);
      return settlement;
    });
  }
  get(queue: string): Promise<FetchedMessage | undefined> { return this.inner.get(queue); }
  inspectQueue(queue: string): Promise<QueueInfo> { return this.inner.inspectQueue(queue); }
  inspectExchange(exchange: string): Promise<void> { return this.inner.inspectExchange(exchange); }
  purgeQueue(queue: string): Promise<number> { return this.inner.purgeQueue(queue); }
  deleteQueue(queue: string): Promise<void> { return this.inner.deleteQueue(queue); }
  deleteExchange(exchange: string): Promise<void> { return this.inner.deleteExchange(exchange); }
  close(): Promise<void> { return this.ownsInner ? this.inner.close() : Promise.resolve(); }
}
