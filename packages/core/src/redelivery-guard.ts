import type { ConsumerPlan } from './consumer-plan';
import { attemptOf, MessageContext } from './context';
import { RedeliveryLimitError } from './errors';
import type { Logger } from './logger';
import type { FailureRouter } from './outcome';
import type { SettledEvent } from './pipeline';
import type { Delivery, DeliveryHandler, Settlement, Transport } from './transport';
import { SuspectGate } from './suspect-gate';

/**
 * The redelivery guard: a message whose handler kills the process (out of memory, a native crash,
 * `process.exit`) comes back to the next instance, which dies too. Warren counts the deliveries of
 * a message that ended without it settling them, and past the consumer's `redeliveryLimit` it
 * dead-letters the message with `REDELIVERY_LIMIT` instead of running the handler again.
 *
 * Where the count lives:
 * - quorum queues: the broker's `x-delivery-count` header, which it increments whenever a delivery
 *   ends unsettled (and, on RabbitMQ 3.x, on every requeue as well).
 * - classic queues and the in-memory broker keep no count that survives the death of the consumer:
 *   only the `redelivered` flag. When a delivery arrives with `redelivered` set, Warren publishes a
 *   copy to the same queue (default exchange, routing key = queue name, confirmed, mandatory) with
 *   its own count `x-warren-redeliveries` incremented, then acks the original, before any handler
 *   runs. The copy arrives with the flag cleared, so each death is counted once. The price: such a
 *   message moves to the back of the queue, and one confirmed publish per redelivery.
 *
 * A publisher can forge either header, but only upwards: that dead-letters its own message sooner,
 * it never makes one loop.
 *
 * A message with a count (a suspect) is run alone (see suspect-gate.ts), so the handlers running
 * beside a crashing message do not die with it every time.
 */

/** Warren's own count of unsettled deliveries, on classic queues. */
export const REDELIVERY_HEADER = 'x-warren-redeliveries';

/** No count above this is believed (forged headers). */
const MAX_COUNT = 1000;

export interface RedeliveryGuardDeps {
  transport: Transport;
  failures: FailureRouter;
  logger: Logger;
  onSettled?(event: SettledEvent): void;
}

/** How many times this delivery's message was delivered before without being settled, as far as the headers say. */
export function redeliveriesOf(delivery: Delivery, quorum: boolean): number {
  const headers = delivery.properties.headers;
  if (!headers) return 0;
  let count = 0;
  const own = headers[REDELIVERY_HEADER];
  if (typeof own === 'number' && Number.isInteger(own) && own > 0) count = own;
  const broker = headers['x-delivery-count'];
  if (quorum && typeof broker === 'number' && Number.isInteger(broker) && broker > count) count = broker;
  return Math.min(count, MAX_COUNT);
}

/** True when the consumer's queue is a quorum queue (the broker counts deliveries). */
export function isQuorumQueue(plan: Pick<ConsumerPlan, 'queue' | 'topology'>): boolean {
  return plan.topology.queues?.find((q) => q.name === plan.queue)?.arguments?.['x-queue-type'] === 'quorum';
}

/** Wraps a consumer's delivery handler with the redelivery guard (and the suspect gate). */
export function guardRedeliveries(plan: ConsumerPlan, deps: RedeliveryGuardDeps, handler: DeliveryHandler): DeliveryHandler {
  const limit = plan.redeliveryLimit;
  if (limit === false) return handler;
  const quorum = isQuorumQueue(plan);
  const gate = new SuspectGate();
  const { logger } = deps;

  const deadLetter = async (delivery: Delivery, count: number): Promise<Settlement> => {
    const context = new MessageContext(delivery, attemptOf(delivery, plan.queue));
    const error = new RedeliveryLimitError(plan.id, count, limit);
    const settlement = await deps.failures.apply(plan, delivery, context, { kind: 'dead-letter', error }).catch((failure: Error) => {
      logger.error('could not dead-letter a message past its redelivery limit; rejecting it to the queue\'s dead-letter exchange', { consumer: plan.id, messageId: context.messageId, error: failure.message });
      return 'reject' as const;
    });
    deps.onSettled?.({
      consumer: plan.id, queue: plan.queue, messageId: context.messageId, correlationId: context.correlationId, attempt: context.attempt,
      outcome: settlement === 'ack' ? 'dead-lettered' : settlement === 'requeue' ? 'requeued' : 'rejected', error,
    });
    return settlement;
  };

  /** Classic queues: the copy with the count goes back to the queue; the original is acked. */
  const recount = async (delivery: Delivery, count: number): Promise<boolean> => {
    try {
      await deps.transport.publish({
        exchange: '', routingKey: plan.queue, body: delivery.body, mandatory: true,
        properties: { ...delivery.properties, headers: { ...origin(delivery), ...withoutBrokerHeaders(delivery.properties.headers), [REDELIVERY_HEADER]: count } },
      });
      logger.warn('a message came back unsettled (the process holding it stopped); requeued with its count', { consumer: plan.id, messageId: delivery.properties.messageId, redeliveries: count, limit });
      return true;
    } catch (error) {
      // Fail open: the message is handled uncounted this time rather than held or lost.
      logger.error('could not requeue a redelivered message with its count; handling it uncounted', { consumer: plan.id, messageId: delivery.properties.messageId, error: (error as Error).message });
      return false;
    }
  };

  return async function guardedDelivery(delivery: Delivery): Promise<Settlement> {
    let count = redeliveriesOf(delivery, quorum);
    if (!quorum && delivery.redelivered) {
      count += 1;
      if (count > limit) return deadLetter(delivery, count);
      if (await recount(delivery, count)) return 'ack';
    } else if (count > limit) {
      return deadLetter(delivery, count);
    }
    return gate.run(count > 0, () => handler(delivery));
  };
}

/**
 * The copy travels through the default exchange, so it records where the message was first
 * published, as Warren's retries do (headers already on the message take precedence).
 */
function origin(delivery: Delivery): Record<string, string> {
  if (delivery.exchange === '' && delivery.routingKey === delivery.queue) return {};
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
