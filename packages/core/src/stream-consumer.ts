import { isMessageAction } from './actions';
import type { ConsumerPlan } from './consumer-plan';
import { markStreamOffset, MessageContext } from './context';
import { InvalidStreamOffsetError, type WarrenError } from './errors';
import type { Logger } from './logger';
import { decideOutcome } from './outcome';
import { streamOffsetOf } from './stream-offset';
import type { StreamReader } from './stream-reader';
import type { Delivery, DeliveryHandler, Settlement } from './transport';
import { untrustedDelivery } from './untrusted';

/**
 * A message's path on a stream consumer. A stream cannot requeue, take a delayed retry back or
 * dead-letter (RabbitMQ refuses `x-dead-letter-exchange` on a stream and closes the connection on a
 * basic.nack), and it keeps every message after it was read. So, per delivery:
 *
 * offset (`x-stream-offset`, checked) → already processed? skip → decode → validate → handler
 *   → failure: retried in process after the policy's delay, up to `retry.attempts` (`requeue()` and
 *     `retryLater(ms)` are in-process retries too)
 *   → still failing, or permanent: published to the consumer's dead-letter queue with the reason
 *     headers, confirmed
 * → processed: the reader's watermark moves on and is stored every few messages → ack.
 *
 * A delivery whose offset header is missing or malformed is dead-lettered with
 * `INVALID_STREAM_OFFSET` (its place is unknown) and does not move the watermark.
 */

/** The stages of the pipeline the stream handler drives (the pipeline's `PipelineStages`, declared here to avoid an import circle). */
export interface StreamStages {
  prepare(delivery: Delivery): unknown;
  invoke(context: MessageContext, payload: unknown, args: unknown[]): Promise<unknown>;
  succeed(context: MessageContext, result: unknown): Promise<Settlement>;
  fail(error: unknown, delivery: Delivery, context: MessageContext): Promise<Settlement>;
  retried(context: MessageContext, error: WarrenError, delayMs: number): void;
}

export function createStreamHandler(plan: ConsumerPlan, stages: StreamStages, reader: StreamReader, logger: Logger): DeliveryHandler {
  const log = { logger, consumer: plan.id };
  return async function handleStreamDelivery(raw: Delivery): Promise<Settlement> {
    const delivery = untrustedDelivery(raw);
    const offset = streamOffsetOf(delivery.properties.headers);
    if (offset === undefined) {
      const context = new MessageContext(delivery, 1, log);
      const error = new InvalidStreamOffsetError(`A delivery from stream "${plan.queue}" has no valid x-stream-offset header, so its place in the stream is unknown; it was dead-lettered unread.`);
      return settleUntracked(await deadLetter(error, delivery, context), plan, logger, context);
    }
    return reader.process(offset, () => run(delivery, offset));
  };

  /** Handles one message: true once it is processed (handled or dead-lettered), false if the reader stopped first. */
  async function run(delivery: Delivery, offset: number): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      const context = new MessageContext(delivery, attempt, log);
      markStreamOffset(context, offset);
      let failure: unknown;
      try {
        const prepared = stages.prepare(delivery);
        const payload = prepared instanceof Promise ? await prepared : prepared;
        const result = await stages.invoke(context, payload, [payload, context]);
        if (!isMessageAction(result)) {
          await stages.succeed(context, result);
          return true;
        }
        failure = result;
      } catch (error) {
        failure = error;
      }
      const outcome = decideOutcome(failure, context, plan);
      if (outcome.kind === 'retry') {
        stages.retried(context, outcome.error, outcome.delayMs);
        logger.warn('message failed, retrying in process (stream)', { consumer: plan.id, offset, messageId: context.messageId, attempt, delayMs: outcome.delayMs, code: outcome.error.code, error: outcome.error.message });
        if (!(await reader.pause(outcome.delayMs))) return false;
        continue;
      }
      const settlement = await deadLetter(failure, delivery, context);
      if (settlement === 'requeue') return false;
      if (settlement === 'reject') {
        logger.error('could not dead-letter a message from a stream; it was skipped and stays in the stream (warren replay can read it again)', { consumer: plan.id, offset, messageId: context.messageId });
      }
      return true;
    }
  }

  /**
   * The pipeline's failure stage (dead-letter publish, confirmed). A publish that fails for a while
   * is tried again, in process, until it succeeds, cannot succeed ('reject'), or the reader stops.
   */
  async function deadLetter(failure: unknown, delivery: Delivery, context: MessageContext): Promise<Settlement> {
    for (;;) {
      const settlement = await stages.fail(failure, delivery, context);
      if (settlement !== 'requeue') return settlement;
      if (!(await reader.pause(0))) return 'requeue';
    }
  }
}

/** A delivery without a usable offset: whatever happened to its dead letter, the stream only ever takes an ack. */
function settleUntracked(settlement: Settlement, plan: ConsumerPlan, logger: Logger, context: MessageContext): Settlement {
  if (settlement === 'reject') logger.error('could not dead-letter a stream delivery without an offset; it was skipped', { consumer: plan.id, messageId: context.messageId });
  return settlement === 'requeue' ? 'requeue' : 'ack';
}
