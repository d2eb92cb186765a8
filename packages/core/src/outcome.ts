import { isMessageAction, MAX_REQUEUES } from './actions';
import type { ConsumerPlan } from './consumer-plan';
import { retryDelay } from './consumer-plan';
import { delayCascadeTopology, delayedAddress, delayHopTopology } from './delay-cascade';
import type { MessageContext } from './context';
import { HandlerError, PublishError, RequeueLimitError, WarrenError } from './errors';
import { FRAME_MAX, headerFrameSize } from './frame-size';
import { describeThrown, errorHeaders, userHeaders } from './failure-headers';
import type { Logger } from './logger';
import type { RetryPolicy } from './options';
import { delayProblem } from './retry-delays';
import { RepublishFailures, republishFailureKind } from './republish-failures';
import { SafeRejecter } from './safe-reject';
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
export function decideOutcome(error: unknown, context: Pick<MessageContext, 'attempt' | 'headers'>, plan: Pick<ConsumerPlan, 'retry'> & { queueType?: ConsumerPlan['queueType'] }): Outcome {
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
      // retryLater() checks its delay; a MessageAction built by hand is checked here. Any valid
      // delay waits as asked: the delay cascade holds every delay in the same queues.
      const delayMs = error.delayMs !== undefined && delayProblem(error.delayMs) === undefined ? error.delayMs : retryDelay(plan.retry, attempt);
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
 * Applies a failure outcome: republishes the message into the delay cascade (a retry), to the
 * dead-letter queue or back to its own queue (confirmed, mandatory), then acks the original. When
 * that publish fails:
 * - a missing exchange or queue (`NOT_FOUND`, unroutable) is re-declared once and the publish tried again;
 * - a publish that can never succeed (frame too large, refused arguments) rejects the original at
 *   once: the queue's own `x-dead-letter-exchange` (Warren declares one on every queue) takes it;
 * - anything else (a timeout, a lost channel, a full queue) requeues the original after a second,
 *   at most `MAX_FAILED_REPUBLISHES` times per message, then rejects it the same way.
 * A message whose `x-death` header the broker's own dead-lettering could crash on is never rejected:
 * see {@link SafeRejecter} (safe-reject.ts).
 */
export class FailureRouter {
  private readonly failures = new RepublishFailures();
  private readonly rejecter: SafeRejecter;

  constructor(private readonly transport: Transport, private readonly logger: Logger, private readonly holdMs = 1000) {
    this.rejecter = new SafeRejecter(transport, logger, holdMs);
  }

  /**
   * The last resort, for a message no failure publish could take: a reject to the queue's own
   * dead-letter exchange, or — when its `x-death` is malformed — a dead-lettered copy without it.
   * Never throws.
   */
  reject(plan: ConsumerPlan, delivery: Delivery, context: MessageContext, cause: WarrenError, because: string, fields: Record<string, unknown>): Promise<Settlement> {
    return this.rejecter.reject(plan, delivery, context, cause, because, fields);
  }

  /** True when this message's settlement `ack` means it was dead-lettered as a copy by {@link reject}. */
  deadLetteredAsCopy(context: MessageContext): boolean {
    return this.rejecter.deadLetteredAsCopy(context);
  }

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

  /**
   * A retry enters the delay cascade of the consumer's queue type addressed to its retry hop
   * (`<queue>.retry`), which puts it back on the consumer's queue through the default exchange
   * once `delayMs` has passed. Both were declared at start; a publish that finds the cascade gone
   * declares it again once.
   */
  private async retry(plan: ConsumerPlan, delivery: Delivery, context: MessageContext, delayMs: number, error: WarrenError): Promise<Settlement> {
    const hop = plan.retryHop;
    // Only a hand-made outcome asks a consumer without a retry policy to retry: nothing waits for it.
    if (!hop) return this.deadLetter(plan, delivery, context, error);
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
    const address = delayedAddress(delayMs, hop);
    const message: OutgoingMessage = { ...address, body: delivery.body, properties: { ...delivery.properties, headers, expiration: undefined }, mandatory: true };
    // declare: false: the administrator created them (`warren topology --print` lists them).
    const repair = plan.declare ? async () => {
      await this.transport.declare(delayCascadeTopology(hop.queueType));
      await this.transport.declare(delayHopTopology(hop));
    } : undefined;
    const settlement = await this.republish('retry', plan, delivery, context, error, message, repair);
    if (settlement === 'ack') this.logger.warn('message failed, retrying later', { consumer: plan.id, messageId: context.messageId, correlationId: context.correlationId, attempt: context.attempt, delayMs, code: error.code, error: error.message });
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
    const settlement = await this.republish('dead-letter', plan, delivery, context, error, message, () => this.transport.declare({
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
    const settlement = await this.republish('requeue', plan, delivery, context, error, message);
    if (settlement === 'ack') this.logger.info('message requeued by its handler', { consumer: plan.id, messageId: context.messageId, requeues: headers['x-warren-requeues'], reason: error.message });
    return settlement;
  }

  /** Publishes `message`; on failure re-declares once (`repair`) where that can help, else gives up in bounded steps. */
  private async republish(what: Republished, plan: ConsumerPlan, delivery: Delivery, context: MessageContext, cause: WarrenError, message: OutgoingMessage, repair?: () => Promise<void>): Promise<Settlement> {
    const key = this.failures.keyOf(plan.queue, delivery);
    const frameSize = headerFrameSize(message.properties);
    if (frameSize > FRAME_MAX) {
      // Never sent: RabbitMQ's client would refuse it (CODEC), possibly closing a shared channel.
      return this.cannotRepublish(what, plan, delivery, context, cause, key, new PublishError(`The ${what} copy does not fit in one frame (CODEC): its properties and headers take ${frameSize} bytes, more than ${FRAME_MAX}.`));
    }
    let failure: unknown;
    try {
      await this.transport.publish(message);
      this.failures.forget(key);
      return 'ack';
    } catch (error) {
      failure = error;
    }
    if (repair && republishFailureKind(failure) === 'missing') {
      try {
        await repair();
        this.logger.warn(`re-declared the ${what === 'retry' ? 'delay cascade' : 'dead-letter route'} after a publish found it missing`, { consumer: plan.id, exchange: message.exchange, routingKey: message.routingKey });
        await this.transport.publish(message);
        this.failures.forget(key);
        return 'ack';
      } catch (error) {
        failure = error;
      }
    }
    return this.cannotRepublish(what, plan, delivery, context, cause, key, failure);
  }

  private async cannotRepublish(what: Republished, plan: ConsumerPlan, delivery: Delivery, context: MessageContext, cause: WarrenError, key: string, failure: unknown): Promise<Settlement> {
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
    return this.reject(plan, delivery, context, cause, `could not ${what} the message (${why})`, fields);
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
