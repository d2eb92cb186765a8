import { MessageAction } from './actions';
import type { ConsumerPlan } from './consumer-plan';
import { retryDelay, retryQueueSpec } from './consumer-plan';
import type { MessageContext } from './context';
import { HandlerError, PayloadValidationError, summarizeIssues, WarrenError } from './errors';
import type { Logger } from './logger';
import type { Delivery, FieldTable, Settlement, Transport } from './transport';

/**
 * Every ack / retry / dead-letter decision is made here, in one place: the pipeline only reports
 * what happened.
 */
export type Outcome =
  | { kind: 'ack' }
  | { kind: 'requeue' }
  | { kind: 'retry'; delayMs: number; error: WarrenError }
  | { kind: 'dead-letter'; error: WarrenError };

/** The error as a WarrenError: foreign errors become `HandlerError` with their message. */
export function asWarrenError(error: unknown): WarrenError {
  if (error instanceof WarrenError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new HandlerError(message || 'The handler failed without a message.', { cause: error });
}

/**
 * Decides what happens to a message whose handling failed on attempt `attempt`:
 * permanent errors (decode, validation, `reject()`) are dead-lettered at once; other errors are
 * retried with the consumer's policy until its attempts are used up, then dead-lettered.
 */
export function decideOutcome(error: unknown, attempt: number, plan: Pick<ConsumerPlan, 'retry'>): Outcome {
  if (error instanceof MessageAction) {
    if (error.kind === 'ack') return { kind: 'ack' };
    if (error.kind === 'requeue') return { kind: 'requeue' };
    if (error.kind === 'retry' && attempt < plan.retry.attempts) {
      return { kind: 'retry', delayMs: error.delayMs ?? retryDelay(plan.retry, attempt), error };
    }
    return { kind: 'dead-letter', error };
  }
  const warrenError = asWarrenError(error);
  if (!warrenError.permanent && attempt < plan.retry.attempts) {
    return { kind: 'retry', delayMs: retryDelay(plan.retry, attempt), error: warrenError };
  }
  return { kind: 'dead-letter', error: warrenError };
}

const MAX_HEADER_TEXT = 1000;

/** The `x-warren-error-*` headers that say why a message failed. */
export function errorHeaders(error: WarrenError): FieldTable {
  const headers: FieldTable = {
    'x-warren-error-code': error.code,
    'x-warren-error-message': truncate(error.message),
  };
  if (error instanceof PayloadValidationError) headers['x-warren-error-details'] = truncate(summarizeIssues(error.issues));
  return headers;
}

function truncate(text: string): string {
  return text.length > MAX_HEADER_TEXT ? `${text.slice(0, MAX_HEADER_TEXT - 1)}…` : text;
}

/** Applies a failure outcome: republishes to the retry or dead-letter destination, then settles the original. */
export class FailureRouter {
  private readonly declaredRetryQueues = new Set<string>();

  constructor(private readonly transport: Transport, private readonly logger: Logger) {}

  async apply(plan: ConsumerPlan, delivery: Delivery, context: MessageContext, outcome: Outcome): Promise<Settlement> {
    switch (outcome.kind) {
      case 'ack':
        return 'ack';
      case 'requeue':
        return 'requeue';
      case 'retry':
        return this.retry(plan, delivery, context, outcome.delayMs, outcome.error);
      case 'dead-letter':
        return this.deadLetter(plan, delivery, context, outcome.error);
    }
  }

  private async retry(plan: ConsumerPlan, delivery: Delivery, context: MessageContext, delayMs: number, error: WarrenError): Promise<Settlement> {
    const queue = await this.retryQueue(plan, delayMs);
    const now = Date.now();
    const headers: FieldTable = {
      ...delivery.properties.headers,
      ...errorHeaders(error),
      'x-warren-attempt': context.attempt + 1,
      'x-warren-original-exchange': context.exchange,
      'x-warren-original-routing-key': context.routingKey,
      'x-warren-first-failure': firstFailure(context, now),
      'x-warren-last-failure': now,
    };
    try {
      // Mandatory: a retry queue that cannot take the message (its node down) must not swallow it.
      await this.transport.publish({ exchange: '', routingKey: queue, body: delivery.body, properties: { ...delivery.properties, headers, expiration: undefined }, mandatory: true });
      this.logger.warn('message failed, retrying later', { consumer: plan.id, messageId: context.messageId, correlationId: context.correlationId, attempt: context.attempt, delayMs, code: error.code, error: error.message });
      return 'ack';
    } catch (publishError) {
      // Could not park it for later: hold the slot briefly and let the broker redeliver it, rather
      // than dead-lettering a message that only needed a retry.
      this.logger.error('could not schedule a retry; requeueing', { consumer: plan.id, messageId: context.messageId, error: (publishError as Error).message });
      await new Promise((resolve) => setTimeout(resolve, 1000));
      return 'requeue';
    }
  }

  private async retryQueue(plan: ConsumerPlan, delayMs: number): Promise<string> {
    const known = plan.retryQueues.get(delayMs);
    if (known) return known;
    // A delay chosen by the handler (`retryLater(ms)`) gets its own TTL queue, declared once.
    const name = `${plan.queue}.retry.${delayMs}`;
    // declare: false — the administrator created the queues (warren topology --print lists the policy's delays).
    if (plan.declare && !this.declaredRetryQueues.has(name)) {
      await this.transport.declare({ queues: [retryQueueSpec(name, delayMs, plan.queue, plan.definition.options.queueType)] });
      this.declaredRetryQueues.add(name);
    }
    return name;
  }

  private async deadLetter(plan: ConsumerPlan, delivery: Delivery, context: MessageContext, error: WarrenError): Promise<Settlement> {
    const now = Date.now();
    const headers: FieldTable = {
      ...delivery.properties.headers,
      ...errorHeaders(error),
      'x-warren-attempts': context.attempt,
      'x-warren-consumer': plan.id,
      'x-warren-original-exchange': context.exchange,
      'x-warren-original-routing-key': context.routingKey,
      'x-warren-original-queue': plan.queue,
      'x-warren-first-failure': firstFailure(context, now),
      'x-warren-last-failure': now,
    };
    try {
      const ownQueue = plan.deadLetter.queue !== undefined;
      await this.transport.publish({ exchange: plan.deadLetter.exchange, routingKey: plan.deadLetter.routingKey, body: delivery.body, properties: { ...delivery.properties, headers, expiration: undefined }, mandatory: ownQueue });
      this.logger.warn('message dead-lettered', { consumer: plan.id, messageId: context.messageId, correlationId: context.correlationId, attempts: context.attempt, code: error.code, error: error.message, deadLetterQueue: plan.deadLetter.queue });
      return 'ack';
    } catch (publishError) {
      if (plan.deadLetter.queue !== undefined) {
        // Warren's own DLQ did not take it (its node down, an alarm): keep the message where it is
        // and try again shortly, rather than hand it to a dead-letter route that may drop it.
        this.logger.error('could not dead-letter the message; requeueing it', { consumer: plan.id, messageId: context.messageId, code: error.code, error: (publishError as Error).message });
        await new Promise((resolve) => setTimeout(resolve, 1000));
        return 'requeue';
      }
      // A dead-letter route the user owns: the queue's own x-dead-letter-exchange takes it (reason
      // "rejected"); only Warren's reason headers are lost.
      this.logger.error('could not publish to the dead-letter exchange; rejecting to the queue\'s DLX', { consumer: plan.id, messageId: context.messageId, code: error.code, error: (publishError as Error).message });
      return 'reject';
    }
  }
}

function firstFailure(context: MessageContext, now: number): number {
  const earlier = context.headers['x-warren-first-failure'];
  return typeof earlier === 'number' && earlier > 0 && earlier <= now ? earlier : now;
}
