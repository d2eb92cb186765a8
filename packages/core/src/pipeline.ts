import { MessageAction } from './actions';
import { decodeBody, jsonCodec, type CodecRegistry } from './codec';
import type { ConsumerPlan } from './consumer-plan';
import { attemptOf, hasForbiddenHeader, MessageContext } from './context';
import { DecodeError, PayloadValidationError, WarrenError } from './errors';
import type { Logger } from './logger';
import { asWarrenError, decideOutcome, errorHeaders, type FailureRouter, type Outcome } from './outcome';
import type { Delivery, DeliveryHandler, FieldTable, OutgoingMessage, Settlement, Transport } from './transport';
import { createBatchHandler, type BatchInvocation } from './batch';

/**
 * A message's path on the consumer side, top to bottom:
 * receive → decode → validate → resolve handler → run (middleware + method) → ack / retry / dead-letter,
 * and for requests (`replyTo`) → reply.
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
}

/** Builds the transport handler for one consumer. */
export function createDeliveryHandler(plan: ConsumerPlan, deps: PipelineDeps): DeliveryHandler {
  const stages = createStages(plan, deps);
  if (plan.batch) return createBatchHandler(plan, stages);
  return async function handleDelivery(delivery: Delivery): Promise<Settlement> {
    const context = new MessageContext(delivery, attemptOf(delivery, plan.queue));
    try {
      const prepared = stages.prepare(delivery);
      const payload = prepared instanceof Promise ? await prepared : prepared;
      const result = await stages.invoke(context, payload, [payload, context]);
      if (result instanceof MessageAction) return await stages.fail(result, delivery, context);
      return await stages.succeed(context, result);
    } catch (error) {
      return stages.fail(error, delivery, context);
    }
  };
}

function createStages(plan: ConsumerPlan, deps: PipelineDeps): PipelineStages {
  const { codecs, logger, middleware, onSettled } = deps;
  const method = plan.definition.method;
  const report = (context: MessageContext, outcome: SettledEvent['outcome'], error?: WarrenError, delayMs?: number, result?: unknown) => {
    if (onSettled) onSettled({ consumer: plan.id, queue: plan.queue, messageId: context.messageId, correlationId: context.correlationId, attempt: context.attempt, outcome, error, delayMs, result });
  };

  return {
    prepare(delivery) {
      if (hasForbiddenHeader(delivery.properties.headers)) {
        throw new DecodeError('DECODE_FAILED', 'The message headers contain a forbidden key (__proto__, constructor or prototype).');
      }
      const decoded = decodeBody(delivery.body, delivery.properties.contentType, plan.shape, codecs, plan.maxBodyBytes);
      if (!plan.validator) return decoded;
      try {
        const validated = plan.validator.validate(decoded);
        return validated instanceof Promise ? validated.catch(asValidationFailure) : validated;
      } catch (error) {
        return asValidationFailure(error);
      }
    },

    invoke(context, payload, args, batch) {
      const handler = deps.resolveHandler(plan, context);
      const call = () => Promise.resolve((handler[method] as (...a: unknown[]) => unknown).apply(handler, args));
      if (middleware.length === 0) return call();
      const invocation: ConsumeInvocation = { consumer: plan.id, payload, context, batch };
      const run = (index: number): Promise<unknown> => (index === middleware.length ? call() : middleware[index]!(invocation, () => run(index + 1)));
      return run(0);
    },

    async succeed(context, result) {
      if (context.replyTo) await reply(deps.transport, context, result);
      report(context, context.replyTo ? 'replied' : 'handled', undefined, undefined, result);
      return 'ack';
    },

    async fail(error, delivery, context) {
      try {
        if (context.replyTo && !(error instanceof MessageAction)) {
          // A caller is waiting: answer with the error instead of retrying behind its back.
          const warrenError = asWarrenError(error);
          await replyError(deps.transport, context, warrenError).catch((replyFailure: Error) =>
            logger.warn('could not send an error reply', { consumer: plan.id, messageId: context.messageId, error: replyFailure.message }));
          if (!warrenError.permanent) {
            logger.warn('request failed; error sent to the caller', { consumer: plan.id, messageId: context.messageId, correlationId: context.correlationId, code: warrenError.code, error: warrenError.message });
            report(context, 'error-replied', warrenError);
            return 'ack';
          }
        }
        const outcome: Outcome = decideOutcome(error, context.attempt, plan);
        const settlement = await deps.failures.apply(plan, delivery, context, outcome);
        const cause = 'error' in outcome ? outcome.error : undefined;
        if (outcome.kind === 'ack') report(context, 'handled');
        else if (outcome.kind === 'requeue' || settlement === 'requeue') report(context, 'requeued', cause);
        else if (settlement === 'reject') report(context, 'rejected', cause);
        else if (outcome.kind === 'retry') report(context, 'retried', cause, outcome.delayMs);
        else report(context, 'dead-lettered', cause);
        return settlement;
      } catch (unexpected) {
        logger.error('failure handling failed; rejecting to the dead-letter exchange', { consumer: plan.id, messageId: context.messageId, error: (unexpected as Error).message });
        report(context, 'rejected', asWarrenError(unexpected));
        return 'reject';
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
  throw new PayloadValidationError('payload', [{ path: '', constraints: { validatorThrew: `validation threw ${(error as Error)?.name ?? 'an error'}: ${(error as Error)?.message ?? String(error)}` } }]);
}

function replyMessage(context: MessageContext, body: Buffer, contentType: string, headers?: FieldTable): OutgoingMessage {
  return {
    exchange: '',
    routingKey: context.replyTo!,
    body,
    properties: { contentType, correlationId: context.correlationId, headers, deliveryMode: 1, timestamp: Math.floor(Date.now() / 1000) },
  };
}

async function reply(transport: Transport, context: MessageContext, result: unknown): Promise<void> {
  const message = Buffer.isBuffer(result)
    ? replyMessage(context, result, 'application/octet-stream')
    : typeof result === 'string'
      ? replyMessage(context, Buffer.from(result, 'utf8'), 'text/plain')
      : replyMessage(context, jsonCodec.encode(result ?? null), 'application/json');
  await transport.publish(message, { confirm: false });
}

async function replyError(transport: Transport, context: MessageContext, error: ReturnType<typeof asWarrenError>): Promise<void> {
  const body = jsonCodec.encode({ error: { code: error.code, message: error.message } });
  await transport.publish(replyMessage(context, body, 'application/json', errorHeaders(error)), { confirm: false });
}
