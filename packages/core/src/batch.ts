import { isMessageAction } from './actions';
import type { ConsumerPlan } from './consumer-plan';
import { attemptOf, MessageContext } from './context';
import type { Logger } from './logger';
import type { Delivery, DeliveryHandler, Settlement } from './transport';

/**
 * The stages of a message's path the batch handler drives; the pipeline provides them (its
 * `PipelineStages`). Declared here, where they are needed, so batch.ts does not import the pipeline
 * that imports it.
 */
export interface BatchStages {
  /** Decode and validate: the payload, or a thrown DecodeError / PayloadValidationError. */
  prepare(delivery: Delivery): unknown;
  /** Runs the consume middleware (which sees `batch`) and the handler method with `args`. */
  invoke(context: MessageContext, payload: unknown, args: unknown[], batch: BatchInvocation): Promise<unknown>;
  /** After success: the `handled` report (batches never reply). */
  succeed(context: MessageContext, result: unknown): Promise<Settlement>;
  /** After failure: the outcome (retry, dead-letter…) applied, then reported. */
  fail(error: unknown, delivery: Delivery, context: MessageContext): Promise<Settlement>;
}

/** The messages of one batch as consume middleware sees them (`ConsumeInvocation.batch`). */
export interface BatchInvocation {
  /** Every message's context, in the order of the payload array. */
  readonly contexts: readonly MessageContext[];
  /**
   * Keeps one message from the handler (an inbox skips one it has already processed): it is
   * removed from the payloads and contexts the handler receives, and settled with the batch.
   */
  skip(context: MessageContext): void;
}

interface Pending {
  delivery: Delivery;
  context: MessageContext;
  payload: unknown;
  settle(settlement: Settlement): void;
}

/**
 * Batch consumption: each message is decoded and validated on its own (an invalid one is
 * dead-lettered alone), valid ones are gathered until `batch.size` or `batch.timeMs`, and the
 * handler runs once with the arrays of payloads and contexts. Success acks them all; a failure sends
 * each through the usual retry / dead-letter outcome. The transport's concurrency is at least the
 * batch size, so a full batch can be held unacknowledged while it forms.
 */
export function createBatchHandler(plan: ConsumerPlan, stages: BatchStages, logger?: Logger): DeliveryHandler {
  const { size, timeMs } = plan.batch!;
  let pending: Pending[] = [];
  let timer: NodeJS.Timeout | undefined;

  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    const batch = pending;
    pending = [];
    if (batch.length) void run(batch);
  };

  const run = async (batch: Pending[]) => {
    const payloads = batch.map((p) => p.payload);
    const contexts = batch.map((p) => p.context);
    // Middleware sees every message and may keep some from the handler (the same arrays are its arguments).
    const view: BatchInvocation = {
      contexts: [...contexts],
      skip(context) {
        const index = contexts.indexOf(context);
        if (index >= 0) { contexts.splice(index, 1); payloads.splice(index, 1); }
      },
    };
    let outcome: { error?: unknown } = {};
    try {
      const result = await stages.invoke(contexts[0]!, payloads, [payloads, contexts], view);
      if (isMessageAction(result)) outcome = { error: result };
    } catch (error) {
      outcome = { error };
    }
    await Promise.all(batch.map(async (p) => {
      p.settle('error' in outcome ? await stages.fail(outcome.error, p.delivery, p.context) : await stages.succeed(p.context, undefined));
    }));
  };

  return async function handleDelivery(delivery: Delivery): Promise<Settlement> {
    const context = new MessageContext(delivery, attemptOf(delivery), logger && { logger, consumer: plan.id });
    let payload: unknown;
    try {
      const prepared = stages.prepare(delivery);
      payload = prepared instanceof Promise ? await prepared : prepared;
    } catch (error) {
      return stages.fail(error, delivery, context);
    }
    return new Promise<Settlement>((settle) => {
      pending.push({ delivery, context, payload, settle });
      if (pending.length >= size) flush();
      else timer ??= setTimeout(flush, timeMs);
    });
  };
}
