/**
 * The seam between Warren's runtime and a broker. Two implementations exist: `AmqpTransport`
 * (RabbitMQ through rabbitmq-client) and `MemoryTransport` (the embedded broker). Everything above
 * this file — pipeline, publishers, RPC, the testing harness — speaks only this interface, and the
 * conformance suite (`test/conformance`) holds both implementations to the same behaviour.
 *
 * Bodies are always raw bytes here: decoding is the pipeline's job, never the transport's.
 */

/** The four AMQP 0-9-1 exchange types. */
export type ExchangeType = 'direct' | 'topic' | 'fanout' | 'headers';

/** Field tables as AMQP carries them (headers, queue/exchange/binding arguments). */
export type FieldTable = Record<string, unknown>;

export interface ExchangeSpec {
  name: string;
  type: ExchangeType;
  /** Default true: survives a broker restart. */
  durable?: boolean;
  autoDelete?: boolean;
  internal?: boolean;
  /** e.g. `{ 'alternate-exchange': 'unrouted' }` */
  arguments?: FieldTable;
}

export interface QueueSpec {
  name: string;
  /** Default true. */
  durable?: boolean;
  exclusive?: boolean;
  autoDelete?: boolean;
  /** `x-dead-letter-exchange`, `x-message-ttl`, `x-max-length`, `x-queue-type`, … */
  arguments?: FieldTable;
}

export interface QueueBindingSpec {
  exchange: string;
  queue: string;
  routingKey: string;
  /** For headers exchanges: `x-match` and the header values to match. */
  arguments?: FieldTable;
}

export interface ExchangeBindingSpec {
  source: string;
  destination: string;
  routingKey: string;
  arguments?: FieldTable;
}

/** A set of declarations applied in order: exchanges, queues, exchange bindings, queue bindings. */
export interface Topology {
  exchanges?: ExchangeSpec[];
  queues?: QueueSpec[];
  bindings?: QueueBindingSpec[];
  exchangeBindings?: ExchangeBindingSpec[];
}

/** Basic properties of a message, named as rabbitmq-client names them. */
export interface MessageProperties {
  contentType?: string;
  contentEncoding?: string;
  headers?: FieldTable;
  /** 2 = persistent (the default for every Warren publish), 1 = transient. */
  deliveryMode?: 1 | 2;
  priority?: number;
  correlationId?: string;
  replyTo?: string;
  /** Per-message TTL in milliseconds, as a decimal string (AMQP's own encoding). */
  expiration?: string;
  messageId?: string;
  /** Seconds since the epoch. */
  timestamp?: number;
  type?: string;
  userId?: string;
  appId?: string;
}

/** A message handed to a subscription's handler. */
export interface Delivery {
  body: Buffer;
  properties: MessageProperties;
  exchange: string;
  routingKey: string;
  /** The queue it was consumed from. */
  queue: string;
  redelivered: boolean;
}

/** A message fetched with {@link Transport.get}; it must be settled exactly once. */
export interface FetchedMessage extends Delivery {
  /** Messages left in the queue after this one was taken. */
  messageCount: number;
  ack(): Promise<void>;
  /** Negative acknowledgement; `requeue: false` dead-letters (or drops) the message. */
  nack(requeue: boolean): Promise<void>;
}

export interface OutgoingMessage {
  exchange: string;
  routingKey: string;
  body: Buffer;
  properties: MessageProperties;
  /** Ask the broker to return the message when no queue is bound for it. */
  mandatory?: boolean;
}

/**
 * What a subscription handler decides for a delivery. The transport applies it:
 * `ack` → basic.ack, `requeue` → basic.nack(requeue), `reject` → basic.nack(no requeue: the queue's
 * dead-letter exchange receives it with reason `rejected`).
 */
export type Settlement = 'ack' | 'requeue' | 'reject';

/**
 * Handles one delivery. It must not throw: the pipeline turns every failure into a settlement, so
 * a transport treats a thrown error as a bug and rejects the message (never requeues it).
 */
export type DeliveryHandler = (delivery: Delivery) => Promise<Settlement>;

export interface SubscribeOptions {
  queue: string;
  /** Unacknowledged deliveries the broker may push at once (basic.qos). */
  prefetch: number;
  /** Handlers running at once; at most `prefetch`. */
  concurrency: number;
  /** Re-declared before every (re)attach, so a deleted queue comes back. */
  topology?: Topology;
  exclusive?: boolean;
  /**
   * Consumer arguments, e.g. `{ 'x-priority': 10 }`. A function is called at every (re)attach: a
   * stream reader resumes from where it stopped (`x-stream-offset`).
   */
  arguments?: FieldTable | (() => FieldTable);
  /**
   * The queue is a stream. A stream cannot requeue or dead-letter (RabbitMQ closes the connection
   * on a basic.nack there), so the transport only ever acknowledges: `reject` is acknowledged (the
   * message stays in the stream), and `requeue` leaves the delivery unacknowledged, holding one
   * prefetch slot until the channel closes (the reader reads it again when it attaches next).
   */
  stream?: boolean;
}

export interface Subscription {
  readonly queue: string;
  /** True while the broker has this consumer attached: from consume-ok until any loss of its channel or connection, or a cancel. */
  readonly attached: boolean;
  /**
   * Stops new deliveries (those not started go back to the queue), waits up to `timeoutMs` (default:
   * as long as it takes) for running handlers, then detaches. Handlers still running at the deadline
   * keep running, but their messages return to the queue and their settlements are dropped.
   */
  close(timeoutMs?: number): Promise<void>;
}

/** Options of {@link Transport.close}. */
export interface CloseOptions {
  /**
   * How long running handlers get to finish (default 30 s). After it, and a short grace for the
   * channels to close politely, channels and connections are destroyed: `close()` resolves by then
   * whatever the handlers or the broker do, and unacknowledged messages return to their queues.
   */
  timeoutMs?: number;
}

export interface PublishOptions {
  /** Wait for the broker's confirm (default true). */
  confirm?: boolean;
  /** Fail with `PublishTimeoutError` when no confirm arrives in time (default 10 s). */
  timeoutMs?: number;
}

export interface RequestOptions {
  /** Fail with `RequestTimeoutError` after this long (default 30 s). */
  timeoutMs?: number;
}

export interface QueueInfo {
  queue: string;
  messageCount: number;
  consumerCount: number;
}

/** Events a transport reports about itself. */
export interface TransportEvents {
  /** Connected, or reconnected after a loss; `connection` names which one (e.g. `billing-consume`) when there are several. */
  onConnect?(connection?: string): void;
  onDisconnect?(error: Error, connection?: string): void;
  /** Broker resource alarm: publishing is paused. */
  onBlocked?(reason: string): void;
  onUnblocked?(): void;
  /** A subscription lost its consumer (queue deleted, broker cancel) or re-attached. */
  onSubscriptionChange?(queue: string, attached: boolean, error?: Error): void;
  /**
   * A handler finished after its channel was lost: its settlement cannot reach the broker (the
   * delivery tag died with the channel), and the broker redelivers the message. Reported once per delivery.
   */
  onSettlementDropped?(queue: string, settlement: Settlement): void;
  /**
   * A publish found an exchange Warren had declared missing (`NOT_FOUND`): it was declared again
   * with its bindings and the publish sent once more, or (with `error`) it could not be.
   */
  onRedeclared?(exchange: string, error?: Error): void;
  /**
   * A reconnect was held back: the broker's address answers, but not as an AMQP 0-9-1 broker (another
   * server took its port). It is probed again with back-off; reported once per outage.
   */
  onReconnectHeld?(error: Error, connection?: string): void;
  onError?(error: Error): void;
}

/** The operations both brokers provide. */
export interface Transport {
  /** A short label for logs: `rabbitmq amqp://127.0.0.1:5672/` (never a password) or `memory`. */
  readonly description: string;
  /** True while connected (always true for the in-memory broker until closed). */
  readonly connected: boolean;
  /** Set while publishing to an exchange Warren declared keeps failing (it is gone and could not be declared again). */
  readonly publishProblem?: string;

  /**
   * Resolves once connected; rejects with `ConnectionError` after `timeoutMs`, or sooner when the
   * cause is definitive (refused port, unknown host, refused credentials, not an AMQP server).
   * `Infinity` waits for the broker to come.
   */
  connect(timeoutMs?: number): Promise<void>;
  /** Declares exchanges, queues and bindings; idempotent; fails on an incompatible redeclaration. */
  declare(topology: Topology): Promise<void>;
  /**
   * Publishes a message. With `mandatory`, resolves only if at least one queue received it, and
   * rejects with `UnroutableError` otherwise. With `confirm` (the default), resolves after the
   * broker has taken responsibility for it.
   */
  publish(message: OutgoingMessage, options?: PublishOptions): Promise<void>;
  /** Publishes a request with direct reply-to and resolves with the reply. */
  request(message: OutgoingMessage, options?: RequestOptions): Promise<Delivery>;
  subscribe(options: SubscribeOptions, handler: DeliveryHandler): Promise<Subscription>;
  /** basic.get: one message or undefined when the queue is empty. */
  get(queue: string): Promise<FetchedMessage | undefined>;
  /** Passive declare: throws `TopologyError` if the queue does not exist. */
  inspectQueue(queue: string): Promise<QueueInfo>;
  /**
   * Passive declare: throws `TopologyError` if the exchange does not exist. Needs no configure
   * permission; says nothing about the exchange's type or arguments (AMQP does not tell).
   */
  inspectExchange(exchange: string): Promise<void>;
  /** Returns how many messages were purged. */
  purgeQueue(queue: string): Promise<number>;
  deleteQueue(queue: string): Promise<void>;
  deleteExchange(exchange: string): Promise<void>;
  /**
   * Closes subscriptions (draining their handlers up to `timeoutMs`), then publishers, then the
   * connection; resolves within `timeoutMs` + 1 s in every case (see {@link CloseOptions}).
   */
  close(options?: CloseOptions): Promise<void>;
}
