import type { OrderPlaced, OrderQuote } from '../../../dist/src/messages';

/**
 * One library, as its users would write a consumer, a publisher and request/reply with it. Every
 * side connects with TCP_NODELAY, acks manually after the handler, and publishes persistent
 * messages with confirms; what else each does (message ids, mandatory, validation) is in
 * docs/performance.md.
 */
export interface PeerSide {
  /** Consumes `queue` with `prefetch`, calling `onOrder` with each payload as the library hands it over. */
  consume(setup: ConsumeSetup): Promise<Closable>;
  /** A publisher sending orders to `exchange` with `routingKey`, resolving on the broker's confirm. */
  publisher?(url: string, exchange: string, routingKey: string): Promise<Sender>;
  /** A request/reply server on `queue` answering with a quote, and a client calling it, in one process. */
  rpc?(setup: RpcSetup): Promise<Requester>;
}

export interface ConsumeSetup {
  url: string;
  queue: string;
  /** The arguments the queue was declared with (Warren's), for the sides that declare what they consume. */
  queueArguments: Record<string, unknown>;
  prefetch: number;
  onOrder(order: OrderPlaced): void;
}

export interface RpcSetup {
  url: string;
  queue: string;
  queueArguments: Record<string, unknown>;
  /** Prefetch (and concurrency) of the server. */
  prefetch: number;
}

export interface Closable {
  close(): Promise<void>;
}

export interface Sender extends Closable {
  send(order: OrderPlaced): Promise<void>;
}

export interface Requester extends Closable {
  request(order: OrderPlaced): Promise<OrderQuote>;
}

/** The quote every server answers with. */
export function quoteOf(order: OrderPlaced): OrderQuote {
  return { orderId: order.orderId, total: order.total };
}
