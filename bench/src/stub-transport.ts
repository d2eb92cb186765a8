import type { Delivery, DeliveryHandler, FetchedMessage, QueueInfo, Subscription, Transport } from '@warren/core';

/**
 * A transport that does nothing but hand over the pipeline's delivery handler: the pipeline
 * micro-benchmark calls it directly with a ready Delivery, so what it times is Warren's own work
 * per message (context, decode, validate, resolve, middleware, invoke, settle), without a broker.
 */
export class StubTransport implements Transport {
  readonly description = 'bench stub';
  readonly connected = true;
  readonly handlers = new Map<string, DeliveryHandler>();

  async connect(): Promise<void> {}
  async declare(): Promise<void> {}
  async publish(): Promise<void> {}
  async request(): Promise<Delivery> {
    throw new Error('the stub transport has no request/reply');
  }
  async subscribe(options: { queue: string }, handler: DeliveryHandler): Promise<Subscription> {
    this.handlers.set(options.queue, handler);
    return { queue: options.queue, attached: true, close: async () => undefined };
  }
  async get(): Promise<FetchedMessage | undefined> {
    return undefined;
  }
  async inspectQueue(queue: string): Promise<QueueInfo> {
    return { queue, messageCount: 0, consumerCount: this.handlers.has(queue) ? 1 : 0 };
  }
  async inspectExchange(): Promise<void> {}
  async purgeQueue(): Promise<number> {
    return 0;
  }
  async deleteQueue(): Promise<void> {}
  async deleteExchange(): Promise<void> {}
  async close(): Promise<void> {}
}
