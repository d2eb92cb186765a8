import type { ConsumerPlan } from './consumer-plan';
import { attemptOf, MessageContext } from './context';
import { RedeliveryLimitError } from './errors';
import type { Logger } from './logger';
import type { FailureRouter } from './outcome';
import type { SettledEvent } from './pipeline';
import type { Delivery, DeliveryHandler, Settlement, Subscription, Transport } from './transport';

/**
 * The redelivery guard. A message whose handler kills the process (out of memory, a native crash,
 * `process.exit`) comes back to the next instance, which dies too. Warren counts the deliveries of
 * a message that ended without it settling them, and past the consumer's `redeliveryLimit` it
 * dead-letters the message with `REDELIVERY_LIMIT` instead of running the handler again.
 *
 * Counting. A delivery that comes back unsettled has `redelivered` set; on a quorum queue the
 * broker also counts in `x-delivery-count` (which RabbitMQ 3.x raises on requeues too). Classic
 * queues keep no count that survives the consumer's death. So Warren keeps its own, in the header
 * `x-warren-redeliveries`, on a copy: a redelivered message is published (confirmed, mandatory,
 * default exchange) to the consumer's `<queue>.redelivered` queue with the count raised, and the
 * original is acked, before any handler runs.
 *
 * Isolation. `<queue>.redelivered` is consumed one message at a time (prefetch 1). The deaths that
 * bring a message back count every message the process held, also those it had only prefetched;
 * in the main queue a message right behind a crashing one would come back with it every time. In
 * the redelivered queue only the one message running is held: a message counts a death there only
 * when it was running. An innocent message is counted at most once (when it was held in the main
 * queue beside the crashing one) — unless the process dies for other reasons.
 *
 * A publisher can forge either header, but only upwards: that dead-letters its own message sooner,
 * it never makes one loop. If the copy cannot be published the message is handled uncounted (logged).
 */

/** Warren's own count of deliveries that ended unsettled. */
export const REDELIVERY_HEADER = 'x-warren-redeliveries';

/** No count above this is believed (forged headers). */
const MAX_COUNT = 1000;

export interface RedeliveryGuardDeps {
  transport: Transport;
  failures: FailureRouter;
  logger: Logger;
  onSettled?(event: SettledEvent): void;
}

/**
 * How many deliveries of this message ended unsettled, this one's predecessor included: Warren's
 * count from earlier copies, plus the deaths in the queue it came from (the `redelivered` flag, or
 * the broker's `x-delivery-count` on a quorum queue).
 */
export function redeliveriesOf(delivery: Delivery, quorum: boolean): { total: number; here: number } {
  const headers = delivery.properties.headers ?? {};
  const own = headers[REDELIVERY_HEADER];
  const before = typeof own === 'number' && Number.isInteger(own) && own > 0 ? Math.min(own, MAX_COUNT) : 0;
  let here = delivery.redelivered ? 1 : 0;
  const broker = headers['x-delivery-count'];
  if (quorum && typeof broker === 'number' && Number.isInteger(broker) && broker > here) here = Math.min(broker, MAX_COUNT);
  return { total: before + here, here };
}

/** True when the consumer's queue is a quorum queue (the broker counts deliveries). */
export function isQuorumQueue(plan: Pick<ConsumerPlan, 'queue' | 'topology'>): boolean {
  return plan.topology.queues?.find((q) => q.name === plan.queue)?.arguments?.['x-queue-type'] === 'quorum';
}

/** Wraps a consumer's delivery handler (for its queue and its redelivered queue) with the guard. */
export function guardRedeliveries(plan: ConsumerPlan, deps: RedeliveryGuardDeps, handler: DeliveryHandler): DeliveryHandler {
  const limit = plan.redeliveryLimit;
  const parking = plan.redeliveredQueue;
  if (limit === false || parking === undefined) return handler;
  const quorum = isQuorumQueue(plan);
  const { logger } = deps;

  const deadLetter = async (delivery: Delivery, count: number): Promise<Settlement> => {
    const context = new MessageContext(delivery, attemptOf(delivery));
    const error = new RedeliveryLimitError(plan.id, count, limit);
    const settlement = await deps.failures.apply(plan, delivery, context, { kind: 'dead-letter', error }).catch((failure: Error) =>
      deps.failures.reject(plan, delivery, context, error, 'could not dead-letter a message past its redelivery limit', { consumer: plan.id, messageId: context.messageId, error: failure.message }));
    deps.onSettled?.({
      consumer: plan.id, queue: plan.queue, messageId: context.messageId, correlationId: context.correlationId, attempt: context.attempt,
      outcome: settlement === 'ack' ? 'dead-lettered' : settlement === 'requeue' ? 'requeued' : 'rejected', error,
    });
    return settlement;
  };

  const park = async (delivery: Delivery, count: number): Promise<boolean> => {
    try {
      await deps.transport.publish({
        exchange: '', routingKey: parking, body: delivery.body, mandatory: true,
        properties: { ...delivery.properties, headers: { ...withoutBrokerHeaders(delivery.properties.headers), ...origin(delivery, parking), [REDELIVERY_HEADER]: count } },
      });
      logger.warn('a message came back unsettled (the process holding it stopped); it waits in the redelivered queue', { consumer: plan.id, messageId: delivery.properties.messageId, redeliveries: count, limit, queue: parking });
      return true;
    } catch (error) {
      // Fail open: handled uncounted this time, rather than held or lost.
      logger.error('could not move a redelivered message to the redelivered queue; handling it uncounted', { consumer: plan.id, messageId: delivery.properties.messageId, error: (error as Error).message });
      return false;
    }
  };

  return async function guardedDelivery(delivery: Delivery): Promise<Settlement> {
    const { total, here } = redeliveriesOf(delivery, quorum);
    if (total > limit) return deadLetter(delivery, total);
    if (here > 0 && (await park(delivery, total))) return 'ack';
    return handler(delivery);
  };
}

/**
 * Consumes the consumer's redelivered queue one message at a time with the same (guarded) handler:
 * a message that may kill the process runs with nothing else of that queue held.
 */
export async function subscribeRedelivered(transport: Transport, plan: ConsumerPlan, handler: DeliveryHandler, subscriptions: Map<string, Subscription>): Promise<void> {
  if (!plan.redeliveredQueue) return;
  const spec = plan.topology.queues!.find((q) => q.name === plan.redeliveredQueue)!;
  subscriptions.set(`${plan.id} (redelivered)`, await transport.subscribe({ queue: spec.name, prefetch: 1, concurrency: 1, topology: plan.declare ? { queues: [spec] } : undefined }, handler));
}

/**
 * The copy travels through the default exchange, so it records where the message was first
 * published, as Warren's retries do: what the broker delivered, unless the message itself came
 * back through the default exchange to this consumer (a retry or an earlier copy), whose recorded
 * origin is kept. An origin header on a message published from outside is never believed.
 */
function origin(delivery: Delivery, parking: string): Record<string, string> {
  const headers = delivery.properties.headers ?? {};
  const exchange = headers['x-warren-original-exchange'];
  const routingKey = headers['x-warren-original-routing-key'];
  const cameBack = delivery.exchange === '' && (delivery.routingKey === delivery.queue || delivery.routingKey === parking);
  if (cameBack && typeof exchange === 'string' && typeof routingKey === 'string') return { 'x-warren-original-exchange': exchange, 'x-warren-original-routing-key': routingKey };
  return { 'x-warren-original-exchange': delivery.exchange, 'x-warren-original-routing-key': delivery.routingKey };
}

/** Headers the broker owns: a forged `x-death` in a republished message can crash RabbitMQ 3.10's dead-lettering. */
function withoutBrokerHeaders(headers: Record<string, unknown> | undefined): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(headers ?? {})) {
    if (key === 'x-death' || key.startsWith('x-first-death-') || key.startsWith('x-last-death-') || key === 'x-delivery-count') continue;
    Object.defineProperty(kept, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return kept;
}
