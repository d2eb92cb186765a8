import { MessageAction } from './actions';
import type { ConsumerPlan } from './consumer-plan';
import { attemptOf, MessageContext } from './context';
import type { PipelineStages } from './pipeline';
import type { Delivery, DeliveryHandler, Settlement } from './transport';

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
export function createBatchHandler(plan: ConsumerPlan, stages: PipelineStages): DeliveryHandler {
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
    let outcome: { error?: unknown } = {};
    try {
      const result = await stages.invoke(contexts[0]!, payloads, [payloads, contexts]);
      if (result instanceof MessageAction) outcome = { error: result };
    } catch (error) {
      outcome = { error };
    }
    await Promise.all(batch.map(async (p) => {
      p.settle('error' in outcome ? await stages.fail(outcome.error, p.delivery, p.context) : await stages.succeed(p.context, undefined));
    }));
  };

  return async function handleDelivery(delivery: Delivery): Promise<Settlement> {
    const context = new MessageContext(delivery, attemptOf(delivery, plan.queue));
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
