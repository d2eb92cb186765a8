import type {
  Delivery, DeliveryHandler, FetchedMessage, OutgoingMessage, PublishOptions, QueueInfo, RequestOptions, SubscribeOptions,
  Subscription, Topology, Transport,
} from '@warren/core';

/** A message some code published, as the harness recorded it. */
export interface PublishedMessage {
  exchange: string;
  routingKey: string;
  /** The decoded body: parsed JSON, a string for text, else the Buffer. */
  payload: unknown;
  /**
   * For a delayed send, as `TestApp.published()` reports it: the delay asked for, in ms. `exchange`
   * and `routingKey` are then its destination; `message` is what entered the delay cascade.
   */
  delayMs?: number;
  message: OutgoingMessage;
}

/**
 * Wraps a transport to record every publish and count running handlers: what the harness needs to
 * answer "what was published?" and "is the app idle?" without reaching into the broker.
 */
export class RecordingTransport implements Transport {
  readonly published: PublishedMessage[] = [];
  private running = 0;

  constructor(readonly inner: Transport) {}

  get description(): string { return this.inner.description; }
  get connected(): boolean { return this.inner.connected; }
  /** Handlers running right now. */
  get inFlight(): number { return this.running; }

  connect(timeoutMs?: number): Promise<void> { return this.inner.connect(timeoutMs); }
  declare(topology: Topology): Promise<void> { return this.inner.declare(topology); }

  async publish(message: OutgoingMessage, options?: PublishOptions): Promise<void> {
    await this.inner.publish(message, options);
    this.published.push({ exchange: message.exchange, routingKey: message.routingKey, payload: decodeForInspection(message), message });
  }

  request(message: OutgoingMessage, options?: RequestOptions): Promise<Delivery> {
    this.published.push({ exchange: message.exchange, routingKey: message.routingKey, payload: decodeForInspection(message), message });
    return this.inner.request(message, options);
  }

  subscribe(options: SubscribeOptions, handler: DeliveryHandler): Promise<Subscription> {
    return this.inner.subscribe(options, async (delivery) => {
      this.running++;
      try {
        return await handler(delivery);
      } finally {
        this.running--;
      }
    });
  }

  get(queue: string): Promise<FetchedMessage | undefined> { return this.inner.get(queue); }
  inspectQueue(queue: string): Promise<QueueInfo> { return this.inner.inspectQueue(queue); }
  inspectExchange(exchange: string): Promise<void> { return this.inner.inspectExchange(exchange); }
  purgeQueue(queue: string): Promise<number> { return this.inner.purgeQueue(queue); }
  deleteQueue(queue: string): Promise<void> { return this.inner.deleteQueue(queue); }
  deleteExchange(exchange: string): Promise<void> { return this.inner.deleteExchange(exchange); }
  close(): Promise<void> { return this.inner.close(); }
}

/** Best-effort decoding for assertions; the pipeline's strict decoding is not needed here. */
export function decodeForInspection(message: { body: Buffer; properties: { contentType?: string } }): unknown {
  const type = message.properties.contentType ?? '';
  if (type.startsWith('application/json') || type.endsWith('+json')) {
    try { return JSON.parse(message.body.toString('utf8')); } catch { return message.body; }
  }
  if (type.startsWith('text/')) return message.body.toString('utf8');
  return message.body;
}
