import type { ContentEncoding } from './content-encoding';
import type { StreamInterval, StreamOffset } from './stream-offset';
import type { ExchangeType, FieldTable } from './transport';
import type { ValidationSettings } from './validation';

/** A name given literally, with `${ENV}` / `${ENV:-default}` placeholders, or computed at start. */
export type ConfigurableName = string | (() => string);

/** The body types a consumer can ask for besides a validated class. */
export type BodyKind = typeof Buffer | typeof String | typeof Object;

/**
 * How a failing handler is retried. Delays happen on the broker (one TTL queue per delay step whose
 * dead-letter exchange routes back to the consumer's queue), so a waiting message holds no consumer
 * slot and survives a restart of the service.
 */
export interface RetryPolicy {
  /** Total handling attempts, including the first (default 1: no retry). */
  attempts: number;
  /** First delay in ms (default 1,000). */
  delay?: number;
  /** `exponential` doubles the delay each attempt, up to `maxDelay` (default `fixed`). */
  backoff?: 'fixed' | 'exponential';
  /** Upper bound for exponential delays in ms (default 5 minutes). */
  maxDelay?: number;
}

/** Where a consumer's dead letters go. By default `<queue>.dlq`, bound to the `warren.dead-letter` exchange. */
export interface DeadLetterOptions {
  /** Exchange to dead-letter to (default `warren.dead-letter`, direct). */
  exchange?: ConfigurableName;
  /** Queue that collects them (default `<queue>.dlq`); set to `false` to declare none. */
  queue?: ConfigurableName | false;
  /** Routing key for dead letters (default: the consumer's queue name). */
  routingKey?: ConfigurableName;
}

export interface ExchangeOptions {
  /** Default true. */
  durable?: boolean;
  autoDelete?: boolean;
  /** e.g. `{ 'alternate-exchange': 'unrouted' }` */
  arguments?: FieldTable;
}

/** Options of `@Consumer(exchange, routingKey, options)`. */
export interface ConsumerOptions {
  /** Queue name (default `<exchange>.<Class>.<method>`). */
  queue?: ConfigurableName;
  /** Exchange type (default `direct`). */
  exchangeType?: ExchangeType;
  exchange?: ExchangeOptions;
  /** For a headers exchange: the header values to match. */
  headers?: Record<string, string | number | boolean>;
  /** For a headers exchange: `all` (default) or `any`. */
  match?: 'all' | 'any';
  /**
   * `quorum` for replicated queues on a cluster, or `classic` (default: the app's `queueType`,
   * itself `classic` by default). The retry and dead-letter queues follow it, and every one of them
   * is declared with an explicit `x-queue-type`. Quorum queues get `x-dead-letter-strategy:
   * at-least-once`, `x-overflow: reject-publish` and `x-delivery-limit: 20` (see docs/broker-names.md).
   * `stream`: an append-only log read from an `offset` (see docs/streams.md): no retry queues, and
   * failed messages go to a quorum dead-letter queue by publish.
   */
  queueType?: 'classic' | 'quorum' | 'stream';
  /** Extra queue arguments (`x-max-length`, `x-message-ttl`, `x-single-active-consumer`…). */
  queueArguments?: FieldTable;
  /**
   * Default true. `durable: false` needs `exclusive: true`: RabbitMQ 4.x deprecates transient queues
   * that are not exclusive (managed brokers refuse them), so Warren refuses them at start.
   */
  durable?: boolean;
  /** The queue belongs to this app's connection and goes with it (always a classic queue). */
  exclusive?: boolean;
  autoDelete?: boolean;
  /** Unacknowledged messages the broker pushes at once (default: the app's, 20). */
  prefetch?: number;
  /** Handler calls at once (default: the app's, 10); at most `prefetch`. */
  concurrency?: number;
  /** The payload class (or `Buffer` / `String`) if the parameter type cannot be used. */
  message?: Function;
  retry?: RetryPolicy;
  deadLetter?: DeadLetterOptions;
  validation?: ValidationSettings;
  /** Larger bodies are dead-lettered unread (default: the app's, 16 MiB). */
  maxBodyBytes?: number;
  /**
   * Receive messages in batches: the handler gets `(payloads: T[], contexts: MessageContext[])`.
   * Set `message` to the element class (an array parameter type says nothing about its elements).
   */
  batch?: { size: number; timeMs?: number };
  /**
   * `app` (default): one handler instance for the app's lifetime. `message`: a child container and
   * a fresh instance per message, so `Lifecycle.ContainerScoped` dependencies live one message.
   */
  scope?: 'app' | 'message';
  /**
   * How long one handler call may run, in ms (default: the app's `handlerTimeoutMs`, 5 minutes).
   * Past it, `ctx.signal` is aborted and the message is retried (then dead-lettered) with
   * `HANDLER_TIMEOUT`. Keep it below the broker's `consumer_timeout` (30 minutes by default).
   */
  timeoutMs?: number;
  /**
   * Deliveries of one message that may end without Warren settling it (the process died holding
   * it) before it is dead-lettered with `REDELIVERY_LIMIT` (default: the app's, 5; `false`: no limit).
   */
  redeliveryLimit?: number | false;
  /**
   * `false`: declare nothing for this consumer, only check passively at start that its exchange and
   * queues exist (for users without configure permission). Default: the app's `declare`, true.
   */
  declare?: boolean;
  /**
   * Whether this consumer answers requests (RPC). `true`: the return value is the reply and a
   * failure is an error reply, for deliveries whose `replyTo` is a direct reply-to address
   * (`amq.rabbitmq.reply-to.*`, what `route.request()` uses). `{ namedQueues: true }` also answers a
   * `replyTo` naming an ordinary queue (trusted callers only). `false`: never answers. Unset: a
   * request is answered only with a value the handler returns, and failures are retried as usual.
   * Any other delivery is retried and dead-lettered normally, whatever its `replyTo`.
   *
   * @example
   * ```ts
   * @Consumer('pricing', 'quote.get', { reply: true })
   * async quote(request: QuoteRequest): Promise<Quote> { … }
   * ```
   */
  reply?: boolean | { namedQueues: boolean };
  /**
   * Receive only messages whose AMQP `type` property is this value. Several `@Consumer` methods may
   * share one queue (the same `queue` option): a delivery goes to the method whose `type` it names,
   * else to the method whose routing key matches it best (exact first, then the most specific topic
   * pattern); one that no method takes is dead-lettered with `NO_HANDLER`. The queue's own settings
   * (type, arguments, prefetch, concurrency, dead-letter route…) must agree across its methods.
   *
   * @example
   * ```ts
   * @Consumer('orders', 'order.#', { queue: 'billing.orders', type: 'OrderPlaced' })
   * async placed(order: OrderPlaced) { … }
   * @Consumer('orders', 'order.#', { queue: 'billing.orders', type: 'OrderCancelled' })
   * async cancelled(order: OrderCancelled) { … }
   * ```
   */
  type?: string;
  /**
   * Streams (`queueType: 'stream'`): where this consumer starts reading when no offset is stored
   * for it (default `'next'`). Once it has processed messages it resumes after the stored offset.
   *
   * @example
   * ```ts
   * @Consumer('audit', 'event.#', { queueType: 'stream', exchangeType: 'topic', offset: 'first' })
   * async record(event: AuditEvent, ctx: MessageContext) { … ctx.streamOffset … }
   * ```
   */
  offset?: StreamOffset;
  /** Streams: the name its offset is stored under (default `<queue>:<Class.method>`). */
  offsetName?: ConfigurableName;
  /**
   * Streams: write the offset after this many processed messages (`every`, default 100) or this
   * long after the first unwritten one (`intervalMs`, default 1,000). After a crash at most
   * `every + prefetch - 1` messages are handled again (docs/streams.md).
   */
  offsetCommit?: { every?: number; intervalMs?: number };
  /** Streams: retention by age, e.g. `'7d'` (`x-max-age`; RabbitMQ removes whole segments). */
  maxAge?: StreamInterval;
  /** Streams: retention by size in bytes (`x-max-length-bytes`; whole segments are removed). */
  maxLengthBytes?: number;
  /** Streams: the size of a segment file in bytes (`x-stream-max-segment-size-bytes`, RabbitMQ's default 500 MB). */
  streamMaxSegmentSizeBytes?: number;
  /**
   * Classic and quorum queues: one consumer at a time receives (`x-single-active-consumer`); when it
   * goes, the next one attached takes over. For in-order processing across several instances.
   */
  singleActiveConsumer?: boolean;
  /**
   * Consumer priority (`x-priority`, a whole number, default 0): the broker gives messages to the
   * highest-priority consumers that have room in their prefetch, and to lower ones only when those are full.
   */
  priority?: number;
}

/** Options of `@Publisher(exchange, options)`. */
export interface PublisherOptions {
  /** Exchange type (default `direct`). */
  type?: ExchangeType;
  exchange?: ExchangeOptions;
  /**
   * Report unroutable messages as `UnroutableError`. Default: true for direct exchanges (commands
   * must reach a consumer), false for topic / fanout / headers (events may go unheard).
   */
  mandatory?: boolean;
  /** Wait for publisher confirms (default true). */
  confirm?: boolean;
  /** Validate messages before sending (default true). */
  validate?: boolean;
  /** Confirm timeout in ms (default: the app's, 10,000). */
  timeoutMs?: number;
  /** `false`: do not declare the exchange, only check at start that it exists (default: the app's `declare`, true). */
  declare?: boolean;
  /** Compress every route's bodies (`content-encoding: gzip` or `deflate`); Warren consumers decode them. Default: none. */
  compress?: ContentEncoding;
  /**
   * Exchange-to-exchange bindings from this publisher's exchange: what it routes for `routingKey`
   * also goes to `destination` (declared at start with the exchange, or checked with `declare: false`).
   *
   * @example
   * ```ts
   * @Publisher('orders', { type: 'topic', bindings: [{ destination: 'audit', routingKey: 'order.#' }] })
   * class OrderEvents { readonly placed = route('order.placed', OrderPlaced); }
   * ```
   */
  bindings?: PublisherBinding[];
}

/** An exchange-to-exchange binding whose source is the publisher's own exchange. */
export interface PublisherBinding {
  /** The exchange that receives copies of what the publisher's exchange routes. */
  destination: ConfigurableName;
  /** The binding key, matched by the source exchange's rules (default `''`; fanout ignores it). */
  routingKey?: ConfigurableName;
  /** For a headers source exchange: `x-match` and the header values. */
  arguments?: FieldTable;
}

/** An exchange-to-exchange binding: messages `source` routes for `routingKey` also go to `destination`. */
export interface ExchangeBindingOptions extends PublisherBinding {
  source: ConfigurableName;
}

/** An exchange to declare that no consumer or publisher of the app declares (e.g. the destination of a binding). */
export interface ExchangeDeclaration extends ExchangeOptions {
  name: ConfigurableName;
  type: ExchangeType;
  /** Only reachable through exchange-to-exchange bindings, never published to directly. */
  internal?: boolean;
}

/**
 * `WarrenOptions.topology`: exchanges and exchange-to-exchange bindings the app declares at start
 * besides its consumers' and publishers' (checked passively with `declare: false`).
 *
 * @example
 * ```ts
 * await Warren.start({
 *   handlers: [Audit],
 *   topology: {
 *     exchanges: [{ name: 'audit', type: 'fanout' }],
 *     bindings: [{ source: 'orders', destination: 'audit', routingKey: 'order.#' }],
 *   },
 * });
 * ```
 */
export interface TopologyOptions {
  exchanges?: ExchangeDeclaration[];
  bindings?: ExchangeBindingOptions[];
}

/** Options of `route(routingKey, type, options)`. */
export interface RouteOptions<R = unknown> {
  /** Overrides the publisher's `mandatory`. */
  mandatory?: boolean;
  /** The reply class for `route.request()`; replies are validated against it. */
  reply?: (new (...args: never[]) => R) | BodyKind;
  /** Overrides the publisher's `confirm`. */
  confirm?: boolean;
  /** Persistent (default) or transient. */
  persistent?: boolean;
  /** Overrides the publisher's `compress`; `false` sends this route uncompressed. */
  compress?: ContentEncoding | false;
  /** The AMQP `type` property of every message of this route (what `@Consumer({ type })` dispatches on). */
  type?: string;
}

/** What `route()` records; read by the runtime and the CLI. */
export interface RouteDefinition {
  routingKey: string;
  type: Function;
  options: RouteOptions;
}

/** Per-send options of a route. */
export interface SendOptions {
  headers?: Record<string, unknown>;
  messageId?: string;
  correlationId?: string;
  /** Per-message TTL in ms. */
  expiration?: number;
  priority?: number;
  /** Send with another routing key than the route's (e.g. a more specific topic). */
  routingKey?: string;
  mandatory?: boolean;
  timeoutMs?: number;
  /**
   * Deliver this many milliseconds from now (a whole number from 0 to `MAX_DELAY_MS`, about 49.7
   * days), through the broker's delay cascade: no plugin, and the message keeps its properties and
   * headers. The confirm means the broker holds it; it reaches the route's exchange when due, never
   * sooner. Not with `at`, `expiration`, a `routingKey` other than the route's, or `request()`.
   * See docs/scheduling.md.
   *
   * @example
   * ```ts
   * await reminders.due({ invoiceId }, { delay: 15 * 60_000 });
   * ```
   */
  delay?: number;
  /**
   * Deliver at this time, through the delay cascade (see `delay`); a time already past delivers at once.
   *
   * @example
   * ```ts
   * await reminders.due({ invoiceId }, { at: new Date('2030-01-01T09:00:00Z') });
   * ```
   */
  at?: Date;
}
