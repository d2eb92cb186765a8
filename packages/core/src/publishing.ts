import { randomUUID } from 'node:crypto';
import { decodeBody, jsonCodec, type CodecRegistry } from './codec';
import { encodeContent, isContentEncoding } from './content-encoding';
import { assertTimeout } from './limits';
import { resolveName } from './consumer-plan';
import type { QueueType } from './consumer-topology';
import { routeHop } from './delay-cascade';
import type { Route } from './decorators';
import { ConfigurationError, ConnectionError, RemoteError } from './errors';
import { getPublisherRoutes, type Class, type PublisherDefinition } from './metadata';
import type { RouteDefinition, SendOptions } from './options';
import { resolveExchangeBinding } from './exchange-bindings';
import { requestedDelay, type DelayedDelivery } from './scheduling';
import type { Delivery, ExchangeBindingSpec, ExchangeSpec, FieldTable, MessageProperties, OutgoingMessage, PublishOptions, Transport } from './transport';
import { createPayloadValidator, type PayloadValidator, type ValidationSettings } from './validation';

/**
 * Runs around every publish (routes, requests and `app.publish`); may add headers to
 * `message.properties` before calling `next()`. Errors propagate to the caller.
 *
 * @example
 * ```ts
 * const tenant: PublishMiddleware = async (message, next) => {
 *   message.properties = { ...message.properties, headers: { ...message.properties.headers, tenant: currentTenant() } };
 *   await next();
 * };
 * ```
 */
export type PublishMiddleware = (message: OutgoingMessage, next: () => Promise<void>) => Promise<void>;

/** Runs `message` through the middleware chain, then `send`. */
export function publishThrough(middleware: readonly PublishMiddleware[], message: OutgoingMessage, send: (message: OutgoingMessage) => Promise<void>): Promise<void> {
  if (middleware.length === 0) return send(message);
  const run = (index: number): Promise<void> => (index === middleware.length ? send(message) : middleware[index]!(message, () => run(index + 1)));
  return run(0);
}

/** What publishing needs from the app. */
export interface PublishingDeps {
  transport: Transport;
  codecs: CodecRegistry;
  env: Record<string, string | undefined>;
  validation: ValidationSettings;
  /** Default confirm timeout (ms). */
  publishTimeoutMs: number;
  /** Default request timeout (ms). */
  requestTimeoutMs: number;
  /** Largest reply body, before and after gzip / deflate decoding (default: no limit). */
  maxReplyBytes?: number;
  /** `appId` property on every message (the service's name). */
  appId?: string;
  middleware: readonly PublishMiddleware[];
  /** Settles once the publisher's exchange is declared, for publishers bound after start. */
  declared?: Promise<void>;
  /** Delayed sends (`delay` / `at`): the app's cascades, their queue type and whether the app declares. */
  delays?: { delivery: DelayedDelivery; queueType: QueueType; declare: boolean };
}

/** A publisher class with its exchange resolved: what the app declares and the CLI documents. */
export interface PublisherPlan {
  readonly publisherClass: Class;
  readonly exchange: ExchangeSpec;
  readonly mandatory: boolean;
  readonly routes: ReadonlyArray<{ property: string; route: RouteDefinition }>;
  /** Exchange-to-exchange bindings from this publisher's exchange (`@Publisher({ bindings })`). */
  readonly bindings: readonly ExchangeBindingSpec[];
}

export function planPublisher(definition: PublisherDefinition, env: Record<string, string | undefined>): PublisherPlan {
  const name = resolveName(definition.exchange, env, `@Publisher exchange of ${definition.publisherClass.name}`);
  const type = definition.options.type ?? 'direct';
  const what = `@Publisher ${definition.publisherClass.name}`;
  if (definition.options.timeoutMs !== undefined) assertTimeout(definition.options.timeoutMs, `${what}: timeoutMs`);
  if (definition.options.compress !== undefined && !isContentEncoding(definition.options.compress)) throw new ConfigurationError(`${what}: compress must be "gzip" or "deflate".`);
  const routes = getPublisherRoutes(definition.publisherClass);
  for (const { property, route } of routes) {
    const compress = route.options.compress;
    if (compress !== undefined && compress !== false && !isContentEncoding(compress)) throw new ConfigurationError(`${what}.${property}: compress must be "gzip", "deflate" or false.`);
    const messageType: unknown = route.options.type;
    if (messageType !== undefined && !(typeof messageType === 'string' && messageType !== '' && Buffer.byteLength(messageType) <= 255)) throw new ConfigurationError(`${what}.${property}: type must be a non-empty string of at most 255 bytes (the AMQP type property).`);
  }
  if (name === '' && type !== 'direct') throw new ConfigurationError(`${definition.publisherClass.name}: the default exchange "" is a direct exchange.`);
  const bindingList: unknown = definition.options.bindings ?? [];
  if (!Array.isArray(bindingList)) throw new ConfigurationError(`${what}: bindings must be a list of { destination, routingKey }.`);
  const bindings = bindingList.map((b, i) => resolveExchangeBinding(b, env, `${what}: bindings[${i}]`, name));
  return {
    publisherClass: definition.publisherClass,
    exchange: { name, type, durable: definition.options.exchange?.durable ?? true, autoDelete: definition.options.exchange?.autoDelete ?? false, arguments: definition.options.exchange?.arguments },
    mandatory: definition.options.mandatory ?? type === 'direct',
    routes,
    bindings,
  };
}

/**
 * Creates an instance of a publisher class whose routes send through `deps.transport`:
 * each send validates, encodes, publishes (persistent, confirmed) and reports unroutable messages.
 */
export function createBoundPublisher(definition: PublisherDefinition, plan: PublisherPlan, deps: PublishingDeps): object {
  const instance = new definition.publisherClass() as Record<string, unknown>;
  for (const { property, route } of plan.routes) {
    instance[property] = createSend(definition, plan, route, deps);
  }
  return instance;
}

function createSend(definition: PublisherDefinition, plan: PublisherPlan, route: RouteDefinition, deps: PublishingDeps): Route<unknown, unknown> {
  const { options: publisherOptions } = definition;
  const exchange = plan.exchange.name;
  const encode = encoderFor(route.type, publisherOptions.validate === false ? undefined : deps.validation);
  const confirm = route.options.confirm ?? publisherOptions.confirm ?? true;
  const mandatory = route.options.mandatory ?? plan.mandatory;
  const timeoutMs = publisherOptions.timeoutMs ?? deps.publishTimeoutMs;
  const replyValidator = replyValidatorFor(route, deps.validation);
  const compress = route.options.compress === false ? undefined : route.options.compress ?? publisherOptions.compress;

  const build = (message: unknown, options: SendOptions = {}): OutgoingMessage => {
    assertSendOptions(options);
    const encoded = encode(message);
    const { contentType } = encoded;
    const body = compress ? encodeContent(encoded.body, compress) : encoded.body;
    const properties: MessageProperties = {
      contentType,
      deliveryMode: route.options.persistent === false ? 1 : 2,
      messageId: options.messageId ?? randomUUID(),
      timestamp: Math.floor(Date.now() / 1000),
    };
    if (options.correlationId !== undefined) properties.correlationId = options.correlationId;
    if (options.headers !== undefined) properties.headers = options.headers as FieldTable;
    if (options.expiration !== undefined) properties.expiration = String(options.expiration);
    if (options.priority !== undefined) properties.priority = options.priority;
    if (deps.appId !== undefined) properties.appId = deps.appId;
    if (compress) properties.contentEncoding = compress;
    if (route.options.type !== undefined) properties.type = route.options.type;
    return { exchange, routingKey: options.routingKey ?? route.routingKey, body, properties, mandatory: options.mandatory ?? mandatory };
  };

  const publishOptions = { confirm, timeoutMs };
  const delays = delayedSends(definition, route, exchange, deps);
  const redirect = async (message: unknown, options: SendOptions | undefined, deliver: (message: OutgoingMessage) => Promise<void>) => {
    const delayMs = delays.requested(options);
    const outgoing = build(message, options);
    await publishThrough(deps.middleware, outgoing, delayMs === undefined ? deliver : async (m) => deliver(await delays.address(m, delayMs)));
  };
  let declared = deps.declared === undefined;
  deps.declared?.then(() => { declared = true; }, () => undefined);
  const send = ((message: unknown, options?: SendOptions) => {
    const perSend = options?.timeoutMs === undefined ? publishOptions : { confirm, timeoutMs: options.timeoutMs };
    const delayMs = delays.requested(options);
    const outgoing = build(message, options);
    const publish = delayMs === undefined ? (m: OutgoingMessage) => deps.transport.publish(m, perSend) : (m: OutgoingMessage) => delays.publish(m, delayMs, perSend);
    if (!declared) return untilDeclared(deps.declared!, perSend.timeoutMs ?? deps.publishTimeoutMs, exchange).then(() => publishThrough(deps.middleware, outgoing, publish));
    return publishThrough(deps.middleware, outgoing, publish);
  }) as Route<unknown, unknown>;

  send.request = async (message: unknown, options?: SendOptions) => {
    if (options?.delay !== undefined || options?.at !== undefined) throw new ConfigurationError('A request cannot be delayed: its caller waits for the reply. Send a delayed message (without request()) and reply to it by a message of its own.');
    const outgoing = build(message, options);
    outgoing.properties.correlationId ??= outgoing.properties.messageId;
    // A request lives as long as its caller waits: transient unless the route says persistent, so
    // the broker confirms it on routing instead of after the handler's ack (or a disk write).
    if (route.options.persistent !== true) outgoing.properties.deliveryMode = 1;
    // A request nobody took within the caller's timeout expires in its queue, so a server that
    // comes back later never executes requests whose callers have given up.
    const timeoutMs = options?.timeoutMs ?? deps.requestTimeoutMs;
    if (options?.expiration === undefined) outgoing.properties.expiration = String(timeoutMs);
    let replyDelivery!: Delivery;
    await publishThrough(deps.middleware, outgoing, async (m) => {
      replyDelivery = await deps.transport.request(m, { timeoutMs });
    });
    const headers = replyDelivery.properties.headers;
    if (headers && typeof headers['x-warren-error-code'] === 'string') {
      throw new RemoteError(headers['x-warren-error-code'], `The handler of "${outgoing.routingKey}" on exchange "${exchange}" failed: ${String(headers['x-warren-error-message'] ?? 'no message')}`);
    }
    return replyValidator(replyDelivery.body, replyDelivery.properties, deps.codecs, deps.maxReplyBytes ?? Number.MAX_SAFE_INTEGER);
  };
  redirects.set(send, redirect);
  return send;
}

/**
 * A route's delayed sends: `delay` / `at` checked at the call (0, or a time already past, sends at
 * once), and a delayed message sent through the app's cascade to this route's hop — declared, or
 * checked when the publisher does not declare, on the first delayed send.
 */
function delayedSends(definition: PublisherDefinition, route: RouteDefinition, exchange: string, deps: PublishingDeps) {
  const settings = deps.delays;
  const hop = settings && routeHop(exchange, route.routingKey, settings.queueType);
  const declare = definition.options.declare ?? settings?.declare ?? true;
  /** The hop's destination: what the message must still be addressed to after the publish middleware. */
  const checked = (message: OutgoingMessage): OutgoingMessage => {
    if (message.exchange !== exchange || message.routingKey !== route.routingKey) {
      throw new ConfigurationError(`A publish middleware readdressed a delayed message of route "${route.routingKey}" to "${message.exchange}" / "${message.routingKey}": a delayed message goes to its route's exchange and routing key.`);
    }
    return message;
  };
  return {
    /** The delay asked for, in ms, or undefined to send at once. */
    requested(options: SendOptions | undefined): number | undefined {
      const delayMs = options ? requestedDelay(options) : undefined;
      if (!delayMs) return undefined;
      if (!settings) throw new ConfigurationError('This publisher was bound without delayed delivery: resolve it from a running Warren app.');
      if (options!.routingKey !== undefined && options!.routingKey !== route.routingKey) {
        throw new ConfigurationError(`A delayed send goes to its route's routing key "${route.routingKey}" (got routingKey "${options!.routingKey}"): each destination of delayed messages costs a queue, so only routes have one. Declare a route for that key.`);
      }
      if (options!.expiration !== undefined) throw new ConfigurationError('A delayed send cannot carry an expiration: the broker would expire it while it waits.');
      return delayMs;
    },
    publish(message: OutgoingMessage, delayMs: number, options: PublishOptions): Promise<void> {
      return settings!.delivery.publish(checked(message), delayMs, hop!, declare, options);
    },
    /**
     * For publishVia: the message as it enters the cascade, with the cascade and hop ready. Its
     * delay counts from now: a relay that sends it later delivers it that much later.
     */
    address(message: OutgoingMessage, delayMs: number): Promise<OutgoingMessage> {
      return settings!.delivery.enter(checked(message), delayMs, hop!, declare);
    },
  };
}

type Redirect = (message: unknown, options: SendOptions | undefined, deliver: (message: OutgoingMessage) => Promise<void>) => Promise<void>;

/** Bound routes and how to build their messages without sending them. */
const redirects = new WeakMap<Function, Redirect>();

/**
 * Publishes through a bound route exactly as calling it would — validation, encoding, message id,
 * properties and the publish middleware all run here, at the call — but hands the finished message
 * to `deliver` instead of the broker. A transactional outbox stores it with the caller's database
 * transaction and a relay sends it later; a validation error rejects before `deliver` is called.
 *
 * @example
 * ```ts
 * await publishVia(app.get(OrderEvents).created, { orderId: 'o-1' }, {}, async (message) => {
 *   await saveToOutbox(tx, message); // message.properties.messageId is fixed from here on
 * });
 * ```
 */
export async function publishVia<T>(route: Route<T, unknown>, message: T, options: SendOptions | undefined, deliver: (message: OutgoingMessage) => Promise<void>): Promise<void> {
  const redirect = redirects.get(route);
  if (!redirect) throw new ConfigurationError('publishVia needs a route of a bound publisher: resolve the publisher class with app.get(PublisherClass) or inject it into a handler.');
  await redirect(message, options, deliver);
}

/**
 * Waits for the publisher's exchange to be declared (a publisher bound after start, or an app
 * waiting for its broker), at most `timeoutMs`: then the message fails unsent.
 */
function untilDeclared(declared: Promise<void>, timeoutMs: number, exchange: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new ConnectionError('CONNECTION', `The message to exchange "${exchange}" was not sent: the exchange could not be declared within ${timeoutMs} ms (is the broker up?).`)), timeoutMs);
    declared.then(() => { clearTimeout(timer); resolve(); }, (error: unknown) => { clearTimeout(timer); reject(error); });
  });
}

type Encoder = (message: unknown) => { body: Buffer; contentType: string };

function encoderFor(type: Function, validation: ValidationSettings | undefined): Encoder {
  if (type === Buffer) {
    return (message) => {
      if (!Buffer.isBuffer(message)) throw new ConfigurationError('This route sends bytes: pass a Buffer.');
      return { body: message, contentType: 'application/octet-stream' };
    };
  }
  if (type === String) return (message) => ({ body: Buffer.from(String(message), 'utf8'), contentType: 'text/plain; charset=utf-8' });
  if (type === Object || !validation) return (message) => ({ body: jsonCodec.encode(message), contentType: 'application/json' });
  const validator: PayloadValidator<unknown> = createPayloadValidator(type as Class, validation);
  return (message) => {
    // Validation throws PayloadValidationError before anything is sent.
    const validated = validator.validate(message);
    if (validated instanceof Promise) {
      throw new ConfigurationError(`${type.name} has async validators; they cannot run on the publish path. Use { validate: false } on the publisher.`);
    }
    return { body: jsonCodec.encode(validated), contentType: 'application/json' };
  };
}

function replyValidatorFor(route: RouteDefinition, validation: ValidationSettings) {
  const type = route.options.reply;
  const validator = typeof type === 'function' && type !== Buffer && type !== String && type !== Object
    ? createPayloadValidator(type as Class, validation)
    : undefined;
  const shape = type === Buffer ? 'bytes' : type === String ? 'text' : 'value';
  return async (body: Buffer, properties: MessageProperties, codecs: CodecRegistry, maxBytes: number): Promise<unknown> => {
    const value = decodeBody(body, properties.contentType, shape, codecs, maxBytes, properties.contentEncoding);
    return validator ? validator.validate(value) : value;
  };
}

/** Per-send options are checked at the call, before anything is sent. */
function assertSendOptions(options: SendOptions): void {
  if (options.timeoutMs !== undefined) assertTimeout(options.timeoutMs, 'timeoutMs');
  if (options.expiration !== undefined) assertTimeout(options.expiration, 'expiration');
  if (options.priority !== undefined && !(Number.isInteger(options.priority) && options.priority >= 0 && options.priority <= 255)) {
    throw new ConfigurationError(`priority must be a whole number from 0 to 255 (got ${String(options.priority)}).`);
  }
}
