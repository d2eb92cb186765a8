import { isMessageAction, MAX_REQUEUES } from './actions';
import type { ConsumerPlan } from './consumer-plan';
import { retryQueueSpec } from './consumer-topology';
import { retryDelay } from './consumer-plan';
import type { MessageContext } from './context';
import { HandlerError, PublishError, RequeueLimitError, WarrenError } from './errors';
import { FRAME_MAX, headerFrameSize } from './frame-size';
import { describeThrown, errorHeaders, userHeaders } from './failure-headers';
import type { Logger } from './logger';
import type { RetryPolicy } from './options';
import { delayProblem, retryBucket } from './retry-delays';
import { RepublishFailures, republishFailureKind } from './republish-failures';
import type { Delivery, FieldTable, OutgoingMessage, Settlement, Transport } from './transport';

export { errorHeaders } from './failure-headers';

/**
 * Every ack / retry / dead-letter decision is made here, in one place: the pipeline only reports
 * what happened.
 */
export type Outcome =
  | { kind: 'ack' }
  | { kind: 'requeue'; error: WarrenError }
  | { kind: 'retry'; delayMs: number; error: WarrenError }
  | { kind: 'dead-letter'; error: WarrenError };

/**
 * The error as a WarrenError: anything else a handler throws (an Error, a string, `undefined`, an
 * object without a prototype or whose `toString` throws…) becomes `HANDLER_FAILED` with a message
 * read without running the value's own code unguarded.
 */
export function asWarrenError(error: unknown): WarrenError {
  let known = false;
  try {
    known = error instanceof WarrenError;
  } catch {
    // A Proxy whose getPrototypeOf trap throws: not one of ours.
  }
  if (known) return error as WarrenError;
  return new HandlerError(describeThrown(error), { cause: error });
}

/** `x-warren-requeues`: how many times `requeue()` has put this message back. Forged values can only end it sooner. */
export function requeuesOf(headers: Readonly<Record<string, unknown>>): number {
  const count = headers['x-warren-requeues'];
  return typeof count === 'number' && Number.isInteger(count) && count > 0 ? Math.min(count, MAX_REQUEUES) : 0;
}

/**
 * Decides what happens to a message whose handling failed: permanent errors (decode, validation,
 * `reject()`) are dead-lettered at once; other errors are retried with the consumer's policy until
 * its attempts are used up, then dead-lettered; `requeue()` puts it back until `MAX_REQUEUES`.
 */
export function decideOutcome(error: unknown, context: Pick<MessageContext, 'attempt' | 'headers'>, plan: Pick<ConsumerPlan, 'retry' | 'retryQueues'> & { queueType?: ConsumerPlan['queueType'] }): Outcome {
  const attempt = context.attempt;
  if (plan.queueType === 'stream') return decideStreamOutcome(error, attempt, plan.retry);
  if (isMessageAction(error)) {
    if (error.kind === 'ack') return { kind: 'ack' };
    if (error.kind === 'requeue') {
      const requeues = requeuesOf(context.headers);
      if (requeues >= MAX_REQUEUES) return { kind: 'dead-letter', error: new RequeueLimitError(requeues, error.message) };
      return { kind: 'requeue', error };
    }
    if (error.kind === 'retry' && attempt < plan.retry.attempts) {
      // retryLater() checks its delay; a MessageAction built by hand is checked here. A delay the
      // policy has no queue for waits in the next bucket up (retry-delays.ts).
      const asked = error.delayMs !== undefined && delayProblem(error.delayMs) === undefined ? error.delayMs : retryDelay(plan.retry, attempt);
      const delayMs = plan.retryQueues.has(asked) ? asked : retryBucket(asked, plan.retryQueues.keys());
      return { kind: 'retry', delayMs, error };
    }
    return { kind: 'dead-letter', error };
  }
  const warrenError = asWarrenError(error);
  if (!warrenError.permanent && attempt < plan.retry.attempts) {
    return { kind: 'retry', delayMs: retryDelay(plan.retry, attempt), error: warrenError };
  }
  return { kind: 'dead-letter', error: warrenError };
}

/**
 * On a stream nothing can be put back or delayed on the broker: a retry is a pause in process
 * (the stream handler waits `delayMs`, then runs the handler again), `requeue()` is such a retry
 * too, and every one counts towards `retry.attempts`. Past them, or for a permanent error, the
 * message is dead-lettered.
 */
function decideStreamOutcome(error: unknown, attempt: number, retry: Required<RetryPolicy>): Outcome {
  if (isMessageAction(error)) {
    if (error.kind === 'ack') return { kind: 'ack' };
    if ((error.kind === 'retry' || error.kind === 'requeue') && attempt < retry.attempts) {
      const delayMs = error.kind === 'retry' && error.delayMs !== undefined && delayProblem(error.delayMs) === undefined ? error.delayMs : retryDelay(retry, attempt);
      return { kind: 'retry', delayMs, error };
    }
    return { kind: 'dead-letter', error };
  }
  const warrenError = asWarrenError(error);
  if (!warrenError.permanent && attempt < retry.attempts) return { kind: 'retry', delayMs: retryDelay(retry, attempt), error: warrenError };
  return { kind: 'dead-letter', error: warrenError };
}

type Republished = 'retry' | 'dead-letter' | 'requeue';

/**
 * Applies a failure outcome: republishes the message to a retry queue, the dead-letter queue or
 * back to its own queue (confirmed, mandatory), then acks the original. When that publish fails:
 * - a missing exchange or queue (`NOT_FOUND`, unroutable) is re-declared once and the publish tried again;
 * - a publish that can never succeed (frame too large, refused arguments) rejects the original at
 *   once: the queue's own `x-dead-letter-exchange` (Warren declares one on every queue) takes it;
 * - anything else (a timeout, a lost channel, a full queue) requeues the original after a second,
 *   at most `MAX_FAILED_REPUBLISHES` times per message, then rejects it the same way.
 */
export class FailureRouter {
  /** Retry queues of the delay ladder, declared on first use, one declaration at a time. */
  private readonly declaredBuckets = new Map<string, Promise<void>>();
  private declaring: Promise<unknown> = Promise.resolve();
  private readonly failures = new RepublishFailures();

  constructor(private readonly transport: Transport, private readonly logger: Logger, private readonly holdMs = 1000) {}

  async apply(plan: ConsumerPlan, delivery: Delivery, context: MessageContext, outcome: Outcome): Promise<Settlement> {
    switch (outcome.kind) {
      case 'ack':
        return 'ack';
      case 'requeue':
        return this.requeue(plan, delivery, context, outcome.error);
      case 'retry':
        return this.retry(plan, delivery, context, outcome.delayMs, outcome.error);
      case 'dead-letter':
        return this.deadLetter(plan, delivery, context, outcome.error);
    }
  }

  private async retry(plan: ConsumerPlan, delivery: Delivery, context: MessageContext, delayMs: number, error: WarrenError): Promise<Settlement> {
    const now = Date.now();
    const headers: FieldTable = {
      ...userHeaders(delivery.properties.headers),
      ...errorHeaders(error),
      ...carried(context),
      'x-warren-attempt': context.attempt + 1,
      'x-warren-original-exchange': context.exchange,
      'x-warren-original-routing-key': context.routingKey,
      'x-warren-first-failure': firstFailure(context, now),
      'x-warren-last-failure': now,
    };
    // decideOutcome() chose a delay the consumer has a queue for; round again for a hand-made outcome.
    const bucket = plan.retryBuckets.has(delayMs) ? delayMs : retryBucket(delayMs, plan.retryQueues.keys());
    const queue = plan.retryBuckets.get(bucket)!;
    const spec = retryQueueSpec(queue, bucket, plan.queue, plan.queueType);
    const message: OutgoingMessage = { exchange: '', routingKey: queue, body: delivery.body, properties: { ...delivery.properties, headers, expiration: undefined }, mandatory: true };
    const settlement = await this.republish('retry', plan, delivery, context, message, async () => {
      // declare: false: the administrator created the queues (`warren topology --print` lists them).
      if (plan.declare && !plan.retryQueues.has(bucket)) await this.declareBucket(queue, () => this.transport.declare({ queues: [spec] }));
    }, plan.declare ? () => this.transport.declare({ queues: [spec] }) : undefined);
    if (settlement === 'ack') this.logger.warn('message failed, retrying later', { consumer: plan.id, messageId: context.messageId, correlationId: context.correlationId, attempt: context.attempt, delayMs: bucket, code: error.code, error: error.message });
    return settlement;
  }

  private async deadLetter(plan: ConsumerPlan, delivery: Delivery, context: MessageContext, error: WarrenError): Promise<Settlement> {
    const now = Date.now();
    const headers: FieldTable = {
      ...userHeaders(delivery.properties.headers),
      ...errorHeaders(error),
      ...carried(context),
      'x-warren-attempts': context.attempt,
      'x-warren-consumer': plan.id,
      'x-warren-original-exchange': context.exchange,
      'x-warren-original-routing-key': context.routingKey,
      'x-warren-original-queue': plan.queue,
      'x-warren-first-failure': firstFailure(context, now),
      'x-warren-last-failure': now,
    };
    // From a stream: where it is in the stream, to read it again there (warren replay --since).
    if (context.streamOffset !== undefined) headers['x-warren-stream-offset'] = context.streamOffset;
    const { exchange, routingKey, queue } = plan.deadLetter;
    const message: OutgoingMessage = { exchange, routingKey, body: delivery.body, properties: { ...delivery.properties, headers, expiration: undefined }, mandatory: queue !== undefined };
    const route = plan.topology;
    const settlement = await this.republish('dead-letter', plan, delivery, context, message, undefined, () => this.transport.declare({
      exchanges: route.exchanges?.filter((e) => e.name === exchange),
      queues: route.queues?.filter((q) => q.name === queue),
      bindings: route.bindings?.filter((b) => b.exchange === exchange && b.queue === queue),
    }));
    if (settlement === 'ack') this.logger.warn('message dead-lettered', { consumer: plan.id, messageId: context.messageId, correlationId: context.correlationId, attempts: context.attempt, code: error.code, error: error.message, deadLetterQueue: queue });
    return settlement;
  }

  /**
   * `requeue()`: a copy goes to the back of the consumer's own queue with `x-warren-requeues`
   * counted up, and the original is acked. RabbitMQ counts a nack-requeue differently in every
   * version (3.x: not at all on classic queues; 4.0: towards a quorum queue's delivery limit; 4.3:
   * not at all), so Warren counts itself and the limit is the same everywhere.
   */
  private async requeue(plan: ConsumerPlan, delivery: Delivery, context: MessageContext, error: WarrenError): Promise<Settlement> {
    const headers: FieldTable = {
      ...userHeaders(delivery.properties.headers),
      ...carried(context),
      'x-warren-requeues': requeuesOf(context.headers) + 1,
      'x-warren-original-exchange': context.exchange,
      'x-warren-original-routing-key': context.routingKey,
    };
    if (context.attempt > 1) headers['x-warren-attempt'] = context.attempt;
    const message: OutgoingMessage = { exchange: '', routingKey: plan.queue, body: delivery.body, properties: { ...delivery.properties, headers }, mandatory: true };
    const settlement = await this.republish('requeue', plan, delivery, context, message);
    if (settlement === 'ack') this.logger.info('message requeued by its handler', { consumer: plan.id, messageId: context.messageId, requeues: headers['x-warren-requeues'], reason: error.message });
    return settlement;
  }

  /** Publishes `message`; on failure re-declares once (`repair`) where that can help, else gives up in bounded steps. */
  private async republish(what: Republished, plan: ConsumerPlan, delivery: Delivery, context: MessageContext, message: OutgoingMessage, prepare?: () => Promise<void>, repair?: () => Promise<void>): Promise<Settlement> {
    const key = this.failures.keyOf(plan.queue, delivery);
    const frameSize = headerFrameSize(message.properties);
    if (frameSize > FRAME_MAX) {
      // Never sent: RabbitMQ's client would refuse it (CODEC), possibly closing a shared channel.
      return this.cannotRepublish(what, plan, context, key, new PublishError(`The ${what} copy does not fit in one frame (CODEC): its properties and headers take ${frameSize} bytes, more than ${FRAME_MAX}.`));
    }
    let failure: unknown;
    try {
      await prepare?.();
      await this.transport.publish(message);
      this.failures.forget(key);
      return 'ack';
    } catch (error) {
      failure = error;
    }
    if (repair && republishFailureKind(failure) === 'missing') {
      try {
        await repair();
        this.logger.warn(`re-declared the ${what === 'retry' ? 'retry queue' : 'dead-letter route'} after a publish found it missing`, { consumer: plan.id, exchange: message.exchange, routingKey: message.routingKey });
        await this.transport.publish(message);
        this.failures.forget(key);
        return 'ack';
      } catch (error) {
        failure = error;
      }
    }
    return this.cannotRepublish(what, plan, context, key, failure);
  }

  private async cannotRepublish(what: Republished, plan: ConsumerPlan, context: MessageContext, key: string, failure: unknown): Promise<Settlement> {
    const kind = republishFailureKind(failure);
    const fields = { consumer: plan.id, messageId: context.messageId, error: failure instanceof Error ? failure.message : describeThrown(failure) };
    if (kind === 'transient') {
      const tries = this.failures.count(key);
      if (tries <= MAX_FAILED_REPUBLISHES) {
        this.logger.error(`could not ${what} the message; requeueing it (${tries} of ${MAX_FAILED_REPUBLISHES})`, fields);
        // Hold the slot briefly: an immediate redelivery would meet the same condition.
        await new Promise((resolve) => setTimeout(resolve, this.holdMs));
        return 'requeue';
      }
    }
    this.failures.forget(key);
    const why = kind === 'transient' ? `after ${MAX_FAILED_REPUBLISHES} requeues` : 'the publish cannot succeed';
    this.logger.error(`could not ${what} the message (${why}); rejecting it to the queue's dead-letter exchange, without Warren's reason headers`, { ...fields, deadLetterExchange: plan.deadLetter.exchange });
    return 'reject';
  }

  /** One declaration at a time, so one the broker refuses never closes a channel under another; retried once. */
  private declareBucket(name: string, declare: () => Promise<void>): Promise<void> {
    let declared = this.declaredBuckets.get(name);
    if (!declared) {
      const once = () => declare();
      declared = this.declaring.then(once, once).catch(once);
      this.declaredBuckets.set(name, declared);
      declared.catch(() => this.declaredBuckets.delete(name));
      this.declaring = declared.catch(() => undefined);
    }
    return declared;
  }
}

/** Requeues of one message, in a row, after its retry / dead-letter / requeue publish failed. */
export const MAX_FAILED_REPUBLISHES = 5;

/** Warren headers a copy keeps: replays are counted across failures. */
function carried(context: MessageContext): FieldTable {
  const replayed = context.headers['x-warren-replayed'];
  return typeof replayed === 'number' && Number.isInteger(replayed) && replayed > 0 ? { 'x-warren-replayed': replayed } : {};
}

function firstFailure(context: MessageContext, now: number): number {
  const earlier = context.headers['x-warren-first-failure'];
  return typeof earlier === 'number' && earlier > 0 && earlier <= now ? earlier : now;
}
