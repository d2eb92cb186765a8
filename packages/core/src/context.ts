import { bindLogger, silentLogger, type Logger } from './logger';
import type { Delivery, MessageProperties } from './transport';
import { plainTable } from './untrusted';

/** The highest attempt number Warren believes: a forged header can only shorten retries, never loop. */
const MAX_ATTEMPT = 1000;

/**
 * Everything about a message except its payload, passed as a handler's second parameter.
 * Headers are plain data: null-prototype copies without `__proto__` / `constructor` / `prototype`
 * keys at any depth (nested tables and arrays included), so a publisher cannot smuggle properties
 * onto objects through them.
 *
 * @example
 * ```ts
 * @Consumer('orders', 'order.created')
 * async charge(order: OrderCreated, ctx: MessageContext) {
 *   log.info('charging', { messageId: ctx.messageId, attempt: ctx.attempt, tenant: ctx.header('x-tenant') });
 * }
 * ```
 */
export class MessageContext {
  /** The exchange the message was first published to (kept across retries and replays). */
  readonly exchange: string;
  /** The routing key it was first published with (kept across retries and replays). */
  readonly routingKey: string;
  readonly queue: string;
  readonly redelivered: boolean;
  /** 1 for the first delivery, then 2, 3… across delayed retries. */
  readonly attempt: number;
  readonly headers: Readonly<Record<string, unknown>>;
  readonly properties: Readonly<MessageProperties>;
  /** The raw body as received. */
  readonly body: Buffer;

  private readonly log: { logger: Logger; consumer?: string };
  private boundLogger?: Logger;

  constructor(delivery: Delivery, attempt: number, log: { logger: Logger; consumer?: string } = { logger: silentLogger }) {
    this.log = log;
    const headers = safeHeaders(delivery.properties.headers);
    this.headers = headers;
    this.properties = delivery.properties;
    this.body = delivery.body;
    this.queue = delivery.queue;
    this.redelivered = delivery.redelivered;
    this.attempt = attempt;
    const origin = originOf(delivery, headers);
    this.exchange = origin.exchange;
    this.routingKey = origin.routingKey;
  }

  get messageId(): string | undefined { return this.properties.messageId; }

  /**
   * The app's logger with this consumer and message id on every line, for handlers.
   *
   * @example
   * ```ts
   * ctx.logger.info('charged', { orderId: order.orderId }); // … consumer=Billing.charge messageId=…
   * ```
   */
  get logger(): Logger {
    // Built on first use: most handlers never log, and this runs once per message.
    return (this.boundLogger ??= bindLogger(this.log.logger, { consumer: this.log.consumer, messageId: this.messageId }));
  }
  get correlationId(): string | undefined { return this.properties.correlationId; }
  get replyTo(): string | undefined { return this.properties.replyTo; }
  get contentType(): string | undefined { return this.properties.contentType; }
  /** When the publisher sent it (AMQP timestamps have one-second resolution). */
  get timestamp(): Date | undefined {
    return this.properties.timestamp === undefined ? undefined : new Date(this.properties.timestamp * 1000);
  }

  /** One header's value, or undefined. */
  header(name: string): unknown {
    return this.headers[name];
  }

  /**
   * Aborted when the handler runs past its consumer's `timeoutMs` (its `reason` is a
   * `HandlerTimeoutError`): the message has then been settled as a failure and whatever the handler
   * does next is ignored. Pass it on so abandoned work stops too.
   *
   * @example
   * ```ts
   * @Consumer('orders', 'order.created', { timeoutMs: 10_000 })
   * async enrich(order: OrderCreated, ctx: MessageContext) {
   *   const customer = await fetch(`${crm}/customers/${order.customerId}`, { signal: ctx.signal });
   * }
   * ```
   */
  get signal(): AbortSignal {
    let state = aborts.get(this);
    if (!state) aborts.set(this, state = {});
    if (!state.controller) {
      // Created on first use: most handlers never ask for it.
      state.controller = new AbortController();
      if (state.reason) state.controller.abort(state.reason);
    }
    return state.controller.signal;
  }

  /**
   * The message's offset in the stream it was read from (consumers with `queueType: 'stream'`);
   * undefined for other consumers, whatever headers the message carries.
   *
   * @example
   * ```ts
   * @Consumer('audit', 'event.#', { queueType: 'stream', exchangeType: 'topic', offset: 'first' })
   * async record(event: AuditEvent, ctx: MessageContext) { await this.log.append(ctx.streamOffset!, event); }
   * ```
   */
  get streamOffset(): number | undefined {
    return streamOffsets.get(this);
  }
}

/** Set by the stream handler only, so a header on a message from an ordinary queue cannot pose as an offset. */
const streamOffsets = new WeakMap<MessageContext, number>();

/** Records the (checked) stream offset of the message a context describes. */
export function markStreamOffset(context: MessageContext, offset: number): void {
  streamOffsets.set(context, offset);
}

/** Kept outside the class so handlers cannot abort their own context's signal. */
const aborts = new WeakMap<MessageContext, { controller?: AbortController; reason?: Error }>();

/** Aborts a context's `signal` (once); the pipeline calls it when the handler's deadline passes. */
export function abandonContext(context: MessageContext, reason: Error): void {
  let state = aborts.get(context);
  if (!state) aborts.set(context, state = {});
  if (state.reason) return;
  state.reason = reason;
  state.controller?.abort(reason);
}

const EMPTY: Readonly<Record<string, unknown>> = Object.freeze(Object.create(null));

function safeHeaders(headers: Record<string, unknown> | undefined): Record<string, unknown> {
  return headers !== null && typeof headers === 'object' ? plainTable(headers) : EMPTY as Record<string, unknown>;
}

/**
 * Where a message was first published. A retry or a replay comes back through the default exchange,
 * addressed to the consumer's own queue, carrying the origin Warren recorded when it failed; only
 * then are those headers read. Anything else is described by what the broker delivered. The origin
 * is a label (logs, `ctx.routingKey`, dead-letter headers): it never chooses where Warren publishes.
 */
export function originOf(delivery: Delivery, headers: Record<string, unknown>): { exchange: string; routingKey: string } {
  const exchange = headers['x-warren-original-exchange'];
  const routingKey = headers['x-warren-original-routing-key'];
  const cameBack = delivery.exchange === '' && delivery.routingKey === delivery.queue;
  if (cameBack && typeof exchange === 'string' && typeof routingKey === 'string') return { exchange, routingKey };
  return { exchange: delivery.exchange, routingKey: delivery.routingKey };
}

/**
 * The attempt number, from Warren's own `x-warren-attempt` header. RabbitMQ's `x-death` counts are
 * not used: RabbitMQ 4.x ignores the `x-death` of a message a client republishes, and Warren never
 * copies it into a retry. A publisher can forge the header, but only upwards — which ends retries
 * sooner — so it cannot make a message loop; it is capped at 1,000.
 */
export function attemptOf(delivery: Delivery): number {
  const own = delivery.properties.headers?.['x-warren-attempt'];
  if (typeof own === 'number' && Number.isInteger(own) && own > 1) return Math.min(own, MAX_ATTEMPT);
  return 1;
}
