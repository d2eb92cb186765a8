import type { ConsumerPlan } from './consumer-plan';
import { attemptOf, MessageContext, originOf } from './context';
import { NoHandlerError } from './errors';
import type { Logger } from './logger';
import type { FailureRouter } from './outcome';
import type { SettledEvent } from './pipeline';
import type { QueueGroup } from './queue-groups';
import { Replier, replyAddress, replyPolicyOf } from './replies';
import { subscribeRedelivered } from './redelivery-guard';
import type { Delivery, DeliveryHandler, Settlement, SubscribeOptions, Subscription, Transport } from './transport';
import { untrustedDelivery } from './untrusted';

/** What the dispatcher needs from the app. */
export interface DispatchDeps {
  transport: Transport;
  failures: FailureRouter;
  logger: Logger;
  onSettled?(event: SettledEvent): void;
}

const NO_HEADERS: Record<string, unknown> = Object.freeze(Object.create(null)) as Record<string, unknown>;

/**
 * The delivery handler of one queue. A queue with one method (and no `type` filter) gets that
 * method's handler as it is. Otherwise each delivery goes to the method the dispatch table picks
 * (by its `type` property, then by the routing key it was first published with); one that no
 * method takes is dead-lettered with `NO_HANDLER` before any handler or decoder sees it.
 *
 * @example
 * ```ts
 * const handle = createQueueHandler(group, new Map(group.consumers.map((p) => [p, handlerOf(p)])), deps);
 * await transport.subscribe({ queue: group.queue, prefetch: 20, concurrency: 10 }, handle);
 * ```
 */
export function createQueueHandler(group: QueueGroup, handlers: ReadonlyMap<ConsumerPlan, DeliveryHandler>, deps: DispatchDeps): DeliveryHandler {
  const table = group.dispatch;
  if (!table) return handlers.get(group.consumers[0]!)!;
  const unhandled = noHandler(group, deps);
  return function dispatchDelivery(raw: Delivery): Promise<Settlement> {
    // Untrusted: headers made plain data before the routing key of a retried message is read from them.
    const delivery = untrustedDelivery(raw);
    const { routingKey } = originOf(delivery, delivery.properties.headers ?? NO_HEADERS);
    const plan = table.select(delivery.properties.type, routingKey);
    return plan ? handlers.get(plan)!(delivery) : unhandled(delivery, routingKey);
  };
}

/**
 * Dead-letters a delivery no method takes, with `NO_HANDLER` and the usual reason headers. A
 * request (direct reply-to) is answered with the error when a method of the queue answers
 * requests, so its caller does not wait out its timeout.
 */
function noHandler(group: QueueGroup, deps: DispatchDeps): (delivery: Delivery, routingKey: string) => Promise<Settlement> {
  const { logger } = deps;
  // The queue's settings are the same on every method (queue-groups.ts): dead letters go where any of them would send theirs.
  const plan: ConsumerPlan = { ...group.consumers[0]!, id: group.id };
  const answers = group.consumers.some((c) => replyPolicyOf(c.definition.options.reply, c.id, c.batch !== undefined).mode !== 'never');
  const replier = new Replier(deps.transport, logger, group.id);
  return async (delivery, routingKey) => {
    const context = new MessageContext(delivery, attemptOf(delivery), { logger, consumer: group.id });
    const error = new NoHandlerError(group.queue, routingKey, delivery.properties.type);
    let settlement: Settlement;
    try {
      settlement = await deps.failures.apply(plan, delivery, context, { kind: 'dead-letter', error });
    } catch (failure) {
      logger.error('could not dead-letter a message no method handles; rejecting it to the queue\'s dead-letter exchange', { consumer: group.id, messageId: context.messageId, error: (failure as Error).message });
      settlement = 'reject';
    }
    const address = answers ? replyAddress({ mode: 'always', namedQueues: false }, context.replyTo) : undefined;
    if (address !== undefined && settlement !== 'requeue') await replier.error(address, context, error, false);
    deps.onSettled?.({
      consumer: group.id, queue: group.queue, messageId: context.messageId, correlationId: context.correlationId, attempt: context.attempt,
      outcome: settlement === 'ack' ? 'dead-lettered' : settlement === 'requeue' ? 'requeued' : 'rejected', error,
    });
    return settlement;
  };
}

/**
 * Subscribes one queue with its handler: the queue's own settings (the same on every method), one
 * entry per method in `subscriptions` (the health report lists methods), then its redelivered queue.
 */
export async function subscribeQueue(transport: Transport, group: QueueGroup, handler: DeliveryHandler, subscriptions: Map<string, Subscription>, extra: Pick<SubscribeOptions, 'arguments' | 'stream'> = {}): Promise<void> {
  const lead = group.consumers[0]!;
  // `extra`: consumer arguments (x-priority, a stream's x-stream-offset) and whether the queue is a stream.
  const subscription = await transport.subscribe({ queue: group.queue, prefetch: lead.prefetch, concurrency: lead.concurrency, topology: lead.declare ? group.topology : undefined, ...extra }, handler);
  for (const plan of group.consumers) subscriptions.set(plan.id, subscription);
  await subscribeRedelivered(transport, lead, handler, subscriptions);
}
