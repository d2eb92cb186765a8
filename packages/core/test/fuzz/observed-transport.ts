import type { Delivery, DeliveryHandler, OutgoingMessage, PublishOptions, Settlement, Subscription, SubscribeOptions, Transport } from '../../src/transport';
import { DelegatingTransport } from '../support/delegating-transport';

/** What the fuzz test watches at the transport seam: every publish the app makes, every delivery and how it was settled. */
export interface TransportObserver {
  published(message: OutgoingMessage): void;
  delivered(delivery: Delivery): void;
  settled(delivery: Delivery, settlement: Settlement | undefined, thrown: unknown): void;
}

/** A transport that reports to an observer and otherwise does what the one it wraps does. */
export class ObservedTransport extends DelegatingTransport {
  constructor(inner: Transport, private readonly observer: TransportObserver, private readonly ownsInner = true) {
    super(inner);
  }

  override publish(message: OutgoingMessage, options?: PublishOptions): Promise<void> {
    this.observer.published(message);
    return this.inner.publish(message, options);
  }
  override subscribe(options: SubscribeOptions, handler: DeliveryHandler): Promise<Subscription> {
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
  override close(): Promise<void> { return this.ownsInner ? this.inner.close() : Promise.resolve(); }
}
