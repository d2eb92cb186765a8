import { injectable } from 'tsyringe';
import { Consumer, MessageContext, Publisher, route, type ValidationSettings } from '@warren/core';
import { OrderPlaced, OrderQuote } from './messages';

/**
 * Handler and publisher classes, made per run: decorators record queue and exchange names at class
 * definition, and every run uses fresh, unique names. The classes are what a user writes.
 */

/** How a bench consumer receives its payload. */
export type PayloadMode =
  /** `order: OrderPlaced`, validated by the compiled validator (Warren's default). */
  | 'validated'
  /** Same, with `validation: { compile: false }`: class-transformer + class-validator per message. */
  | 'class-validator'
  /**
   * `{ message: Object }`: decoded JSON handed over as is. This is the fair "validation off"
   * against a raw consumer that only JSON.parses: same work on the payload, and everything else
   * (context, DI, middleware, outcome) still Warren's.
   */
  | 'unvalidated';

export interface ConsumerSpec {
  queue: string;
  prefetch: number;
  concurrency: number;
  mode: PayloadMode;
  /** Called with the payload and context of each message; may return the reply of a request. */
  onMessage(order: OrderPlaced, context: MessageContext): unknown;
}

export function consumerClass(spec: ConsumerSpec): new () => object {
  const validation: ValidationSettings | undefined = spec.mode === 'class-validator' ? { compile: false } : undefined;
  const options = { queue: spec.queue, prefetch: spec.prefetch, concurrency: spec.concurrency, validation };
  if (spec.mode === 'unvalidated') {
    @injectable()
    class UnvalidatedOrders {
      @Consumer('', spec.queue, { ...options, message: Object })
      async placed(order: Record<string, unknown>, context: MessageContext): Promise<unknown> {
        return spec.onMessage(order as unknown as OrderPlaced, context);
      }
    }
    return UnvalidatedOrders;
  }
  @injectable()
  class Orders {
    @Consumer('', spec.queue, options)
    async placed(order: OrderPlaced, context: MessageContext): Promise<unknown> {
      return spec.onMessage(order, context);
    }
  }
  return Orders;
}

/** A publisher whose `placed` route sends a validated OrderPlaced (and can request an OrderQuote). */
export interface OrderPublisher {
  readonly placed: ReturnType<typeof route<typeof OrderPlaced, OrderQuote>>;
}

/** `validate: false` sends without validating (the publisher option of that name); `mandatory` overrides the exchange's default. */
export function publisherClass(exchange: string, routingKey: string, options: { mandatory?: boolean; validate?: boolean } = {}): new () => OrderPublisher {
  @Publisher(exchange, options)
  class OrderEvents implements OrderPublisher {
    readonly placed = route(routingKey, OrderPlaced, { reply: OrderQuote });
  }
  return OrderEvents;
}
