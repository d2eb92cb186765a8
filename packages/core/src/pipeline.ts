import { isMessageAction } from './actions';
import { decodeBody, type CodecRegistry } from './codec';
import type { ConsumerPlan } from './consumer-plan';
import { attemptOf, MessageContext } from './context';
import { PayloadValidationError, WarrenError } from './errors';
import type { Logger } from './logger';
import { asWarrenError, decideOutcome, type FailureRouter, type Outcome } from './outcome';
import { describeThrown } from './failure-headers';
import { Replier, replyAddress, replyPolicyOf } from './replies';
import type { Delivery, DeliveryHandler, Settlement, Transport } from './transport';
import { untrustedDelivery } from './untrusted';
import { createBatchHandler, type BatchInvocation } from './batch';
import { runWithDeadline } from './handler-timeout';
import { createStreamHandler } from './stream-consumer';
import type { StreamReader } from './stream-reader';

/**
 * A message's path on the consumer side, top to bottom:
 * receive (headers made plain data) → decode → validate → resolve handler → run (middleware + method)
 * → ack / retry / dead-letter, and for requests a consumer answers (replies.ts) → reply.
 * A stream consumer's messages take the same stages in another order: see stream-consumer.ts.
 */

/** What a consume middleware sees: the validated payload and its context. */
export interface ConsumeInvocation {
  /** `Class.method` of the consumer. */
  readonly consumer: string;
  readonly payload: unknown;
  readonly context: MessageContext;
  /** For a batch consumer: every message of the batch (`context` is the first one's). */
  readonly batch?: BatchInvocation;
}

/**
 * Runs around every handler call; call `next()` to continue (or don't, to short-circuit). Errors
 * thrown here are treated like handler errors.
 *
 * @example
 * ```ts
 * const timing: ConsumeMiddleware = async (call, next) => {
 *   const start = performance.now();
 *   try { return await next(); } finally { metrics.observe(call.consumer, performance.now() - start); }
 * };
 * ```
 */
export type ConsumeMiddleware = (invocation: ConsumeInvocation, next: () => Promise<unknown>) => Promise<unknown>;

/** How one delivery ended, reported to `WarrenOptions.onSettled` (tests, metrics, audits). */
export interface SettledEvent {
  /** `Class.method` of the consumer. */
  readonly consumer: string;
  readonly queue: string;
  readonly messageId?: string;
  readonly correlationId?: string;
  readonly attempt: number;
  /** `handled`: acked after the handler; `replied`: handled and answered; the rest after a failure. */
  readonly outcome: 'handled' | 'replied' | 'retried' | 'dead-lettered' | 'requeued' | 'rejected' | 'error-replied';
  /** What the handler returned (for `handled` / `replied`). */
  readonly result?: unknown;
  readonly error?: WarrenError;
  /** The delay before the next attempt (for `retried`). */
  readonly delayMs?: number;
}

export interface PipelineDeps {
  codecs: CodecRegistry;
  transport: Transport;
  failures: FailureRouter;
  logger: Logger;
  middleware: readonly ConsumeMiddleware[];
  /** The handler instance for one message (app-scoped, or from a per-message child container). */
  resolveHandler(plan: ConsumerPlan, context: MessageContext): Record<string, unknown>;
  onSettled?(event: SettledEvent): void;
  /** For a stream consumer: the reader that tracks its offsets (its own, or a replay's). */
  streamReader?: StreamReader;
}

/** The stages of a message's path, shared by single and batch consumers. */
export interface PipelineStages {
  /** Decode and validate: the payload, or a thrown DecodeError / PayloadValidationError. */
  prepare(delivery: Delivery): unknown;
  /** Runs the consume middleware and the handler method with `args`. */
  invoke(context: MessageContext, payload: unknown, args: unknown[], batch?: BatchInvocation): Promise<unknown>;
  /** After success: the reply for requests, then the `handled` / `replied` report. */
  succeed(context: MessageContext, result: unknown): Promise<Settlement>;
  /** After failure: the outcome (retry, dead-letter, error reply…) applied, then reported. */
  fail(error: unknown, delivery: Delivery, context: MessageContext): Promise<Settlement>;
  /** Reports an in-process retry (stream consumers), as `retried`. */
  retried(context: MessageContext, error: WarrenError, delayMs: number): void;
}

/** Builds the transport handler for one consumer. */
export function createDeliveryHandler(plan: ConsumerPlan, deps: PipelineDeps): DeliveryHandler {
  const stages = createStages(plan, deps);
  if (plan.queueType === 'stream') {
    if (!deps.streamReader) throw new Error(`${plan.id}: a stream consumer needs its stream reader.`);
    return createStreamHandler(plan, stages, deps.streamReader, deps.logger);
  }
  // Every delivery, from either broker, is made plain data here before anything reads it.
  if (plan.batch) {
    const batch = createBatchHandler(plan, stages, deps.logger);
    return (delivery) => batch(untrustedDelivery(delivery));
  }
  return async function handleDelivery(raw: Delivery): Promise<Settlement> {
    const delivery = untrustedDelivery(raw);
    const context = new MessageContext(delivery, attemptOf(delivery), { logger: deps.logger, consumer: plan.id });
    try {
      const prepared = stages.prepare(delivery);
      const payload = prepared instanceof Promise ? await prepared : prepared;
      const result = await stages.invoke(context, payload, [payload, context]);
      if (isMessageAction(result)) return await stages.fail(result, delivery, context);
      return await stages.succeed(context, result);
    } catch (error) {
      return stages.fail(error, delivery, context);
    }
  };
}

function createStages(plan: ConsumerPlan, deps: PipelineDeps): PipelineStages {
  const { codecs, logger, middleware, onSettled } = deps;
  const method = plan.definition.method;
  const replies = replyPolicyOf(plan.definition.options.reply, plan.id, plan.batch !== undefined);
  const replier = new Replier(deps.transport, logger, plan.id);
  const report = (context: MessageContext, outcome: SettledEvent['outcome'], error?: WarrenError, delayMs?: number, result?: unknown) => {
    if (onSettled) onSettled({ consumer: plan.id, queue: plan.queue, messageId: context.messageId, correlationId: context.correlationId, attempt: context.attempt, outcome, error, delayMs, result });
  };

  return {
    prepare(delivery) {
      const { contentType, contentEncoding } = delivery.properties;
      const decoded = decodeBody(delivery.body, contentType, plan.shape, codecs, plan.maxBodyBytes, contentEncoding);
      if (!plan.validator) return decoded;
      try {
        const validated = plan.validator.validate(decoded);
        return validated instanceof Promise ? validated.catch(asValidationFailure) : validated;
      } catch (error) {
        return asValidationFailure(error);
      }
    },

    invoke(context, payload, args, batch) {
      const contexts = plan.batch ? (args[1] as MessageContext[]) : [context];
      return runWithDeadline(() => {
        const handler = deps.resolveHandler(plan, context);
        const call = () => Promise.resolve((handler[method] as (...a: unknown[]) => unknown).apply(handler, args));
        if (middleware.length === 0) return call();
        const invocation: ConsumeInvocation = { consumer: plan.id, payload, context, batch };
        const run = (index: number): Promise<unknown> => (index === middleware.length ? call() : middleware[index]!(invocation, () => run(index + 1)));
        return run(0);
      }, { consumer: plan.id, timeoutMs: plan.timeoutMs, contexts, logger });
    },

    async succeed(context, result) {
      const address = replyAddress(replies, context.replyTo);
      const answered = address !== undefined && (replies.mode === 'always' || result !== undefined);
      if (answered) await replier.result(address, context, result, replies.mode === 'value');
      report(context, answered ? 'replied' : 'handled', undefined, undefined, result);
      return 'ack';
    },

    retried(context, error, delayMs) {
      report(context, 'retried', error, delayMs);
    },

    async fail(error, delivery, context) {
      try {
        const address = replyAddress(replies, context.replyTo);
        const answerable = address !== undefined && !isMessageAction(error);
        if (answerable && replies.mode === 'always') {
          // A caller is waiting: answer with the error instead of retrying behind its back.
          const warrenError = asWarrenError(error);
          await replier.error(address, context, warrenError, false);
          if (!warrenError.permanent) {
            logger.warn('request failed; error sent to the caller', { consumer: plan.id, messageId: context.messageId, correlationId: context.correlationId, code: warrenError.code, error: warrenError.message });
            report(context, 'error-replied', warrenError);
            return 'ack';
          }
        }
        const outcome: Outcome = decideOutcome(error, context, plan);
        const settlement = await deps.failures.apply(plan, delivery, context, outcome);
        const cause = 'error' in outcome ? outcome.error : undefined;
        // A consumer that answers requests only implicitly tells the caller once the policy has run out.
        if (answerable && replies.mode === 'value' && outcome.kind === 'dead-letter' && settlement !== 'requeue') await replier.error(address, context, outcome.error, true);
        if (outcome.kind === 'ack') report(context, 'handled');
        else if (settlement === 'reject') report(context, 'rejected', cause);
        else if (deps.failures.deadLetteredAsCopy(context)) report(context, 'dead-lettered', cause);
        else if (outcome.kind === 'requeue' || settlement === 'requeue') report(context, 'requeued', cause);
        else if (outcome.kind === 'retry') report(context, 'retried', cause, outcome.delayMs);
        else report(context, 'dead-lettered', cause);
        return settlement;
      } catch (unexpected) {
        const failure = asWarrenError(unexpected);
        const settlement = await deps.failures.reject(plan, delivery, context, failure, 'failure handling failed', { consumer: plan.id, messageId: context.messageId, error: failure.message });
        report(context, settlement === 'reject' ? 'rejected' : settlement === 'requeue' ? 'requeued' : 'dead-lettered', failure);
        return settlement;
      }
    },
  };
}

/**
 * Some built-in class-validator checks throw on hostile input (isEmail on a lone surrogate, for
 * one). The same bytes would throw again: such a message is invalid, never a handler failure to retry.
 */
function asValidationFailure(error: unknown): never {
  if (error instanceof WarrenError) throw error;
  throw new PayloadValidationError('payload', [{ path: '', constraints: { validatorThrew: `validation threw: ${describeThrown(error)}` } }]);
}
