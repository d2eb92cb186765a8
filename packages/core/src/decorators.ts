import { ConfigurationError } from './errors';
import { addConsumer, markRoute, methodParameterTypes, setPublisher, type Class } from './metadata';
import type { BodyKind, ConfigurableName, ConsumerOptions, PublisherOptions, RouteOptions, SendOptions } from './options';

/**
 * Marks a method as the handler of messages sent to `exchange` with `routingKey` (one key or
 * several; a pattern for topic exchanges). The first parameter's type is the payload class: each
 * message is decoded, transformed and validated into it before the method runs. The second,
 * optional parameter is the {@link MessageContext}.
 *
 * @example
 * ```ts
 * @injectable()
 * class Billing {
 *   @Consumer('orders', 'order.created', { queue: 'billing.order-created' })
 *   async charge(order: OrderCreated, ctx: MessageContext) { … }
 * }
 * ```
 */
export function Consumer(exchange: ConfigurableName, routingKey: ConfigurableName | ConfigurableName[], options: ConsumerOptions = {}): MethodDecorator {
  return (prototype, method) => {
    if (typeof method === 'symbol') throw new ConfigurationError('@Consumer cannot decorate a symbol-named method.');
    addConsumer({
      handlerClass: prototype.constructor as Class,
      method,
      exchange,
      routingKeys: Array.isArray(routingKey) ? routingKey : [routingKey],
      options,
      parameterTypes: methodParameterTypes(prototype, method),
    });
  };
}

/**
 * Declares a publisher class: the exchange it sends to, and typed routes as its properties.
 * Resolve the class from the app's container (or inject it into a handler) to get routes that send.
 *
 * @example
 * ```ts
 * @Publisher('orders')
 * class OrderEvents {
 *   readonly created = route('order.created', OrderCreated);
 * }
 * await app.get(OrderEvents).created({ orderId, items });
 * ```
 */
export function Publisher(exchange: ConfigurableName, options: PublisherOptions = {}): ClassDecorator {
  return (target) => {
    setPublisher({ publisherClass: target as unknown as Class, exchange, options });
  };
}

/** A typed, validating send function created by {@link route}. */
export interface Route<T, R = unknown> {
  /** Validates `message`, sends it, and resolves when the broker confirmed it. */
  (message: T, options?: SendOptions): Promise<void>;
  /** Sends `message` as a request (direct reply-to) and resolves with the validated reply. */
  request(message: T, options?: SendOptions): Promise<R>;
}

type Payload<C> = C extends typeof Buffer ? Buffer : C extends typeof String ? string : C extends new (...args: never[]) => infer T ? T : never;

/**
 * Declares one route of a `@Publisher` class. Until the app binds the publisher, calling the
 * route throws: resolve publisher classes from the app (`app.get(OrderEvents)`) or inject them.
 *
 * @example
 * ```ts
 * readonly quote = route('quote.get', QuoteRequest, { reply: Quote });
 * const q: Quote = await events.quote.request({ sku: 'A1' });
 * ```
 */
export function route<C extends (new (...args: never[]) => unknown) | BodyKind, R = unknown>(
  routingKey: string,
  type: C,
  options: RouteOptions<R> = {},
): Route<Payload<C>, R> {
  const unbound = (() => {
    throw new ConfigurationError(`Route "${routingKey}" is not bound to a running Warren app: resolve its publisher class with app.get(PublisherClass) or inject it into a handler.`);
  }) as unknown as Route<Payload<C>, R>;
  unbound.request = unbound as unknown as Route<Payload<C>, R>['request'];
  markRoute(unbound, { routingKey, type, options: options as RouteOptions });
  return unbound;
}
