import { bindLogger, silentLogger, type Logger } from './logger';
import type { Delivery, MessageProperties } from './transport';

/** The highest attempt number Warren believes: a forged header can only shorten retries, never loop. */
const MAX_ATTEMPT = 1000;

/** Header and property keys that could reach an object prototype if copied naively. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Everything about a message except its payload, passed as a handler's second parameter.
 * Headers are a null-prototype copy without `__proto__` / `constructor` / `prototype` keys, so a
 * publisher cannot smuggle properties onto objects through them.
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
  /** The exchange the message was first published to (kept across retries). */
  readonly exchange: string;
  /** The routing key it was first published with (kept across retries). */
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
    const retried = attempt > 1 && typeof headers['x-warren-original-exchange'] === 'string';
    this.exchange = retried ? (headers['x-warren-original-exchange'] as string) : delivery.exchange;
    this.routingKey = retried && typeof headers['x-warren-original-routing-key'] === 'string' ? (headers['x-warren-original-routing-key'] as string) : delivery.routingKey;
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
}

const EMPTY: Readonly<Record<string, unknown>> = Object.freeze(Object.create(null));

function safeHeaders(headers: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!headers) return EMPTY as Record<string, unknown>;
  const copy: Record<string, unknown> = Object.create(null);
  for (const key of Object.keys(headers)) {
    if (!FORBIDDEN_KEYS.has(key)) copy[key] = headers[key];
  }
  return copy;
}

/** True when a header table has a key that must never be copied onto an ordinary object. */
export function hasForbiddenHeader(headers: Record<string, unknown> | undefined): boolean {
  if (!headers) return false;
  if (Object.getPrototypeOf(headers) !== Object.prototype && Object.getPrototypeOf(headers) !== null) return true;
  for (const key of Object.keys(headers)) if (FORBIDDEN_KEYS.has(key)) return true;
  return false;
}

/**
 * The attempt number: the larger of Warren's own counter and the broker's `x-death` count for this
 * queue's retry queues. Both can be forged by a publisher, but only upwards — which ends retries
 * sooner — so neither can make a message loop.
 */
export function attemptOf(delivery: Delivery, queue: string): number {
  const headers = delivery.properties.headers;
  if (!headers) return 1;
  let attempt = 1;
  const own = headers['x-warren-attempt'];
  if (typeof own === 'number' && Number.isInteger(own) && own > attempt) attempt = own;
  const deaths = headers['x-death'];
  if (Array.isArray(deaths)) {
    let retries = 0;
    const prefix = `${queue}.retry.`;
    for (const death of deaths) {
      const entry = death as Record<string, unknown> | null;
      if (entry && entry.reason === 'expired' && typeof entry.queue === 'string' && entry.queue.startsWith(prefix) && typeof entry.count === 'number' && entry.count > 0) {
        retries += entry.count;
      }
    }
    if (retries + 1 > attempt) attempt = retries + 1;
  }
  return Math.min(attempt, MAX_ATTEMPT);
}
