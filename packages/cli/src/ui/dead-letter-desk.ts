import { discardDeadLetters, listDeadLetters, MAX_HELD_MESSAGES, replayDeadLetters, WarrenError, type ConsumerPlan, type DeadLetter, type Transport } from '@warren/core';
import type { ActionResult, DeadLetterDetail, DeadLetterListing, DeadLetterOverview, Selection } from './api-types';
import { deadLetterDetail, fingerprint, groupDeadLetters, selects } from './dead-letter-view';

/** A request the console cannot serve as asked; `status` is the HTTP status it answers with. */
export class ConsoleRequestError extends WarrenError {
  constructor(readonly status: number, message: string) {
    super('CONSOLE_REQUEST', message);
  }
}

/**
 * The console's dead-letter desk: each consumer's dead-letter queue read, grouped and acted on
 * through core's DLQ API (`listDeadLetters`, `replayDeadLetters`, `discardDeadLetters`). One
 * operation per queue at a time: a listing holds the messages it reads until it gives them back,
 * so a replay running beside it would miss them.
 */
export class DeadLetterDesk {
  private readonly consumers = new Map<string, ConsumerPlan>();
  private readonly locks = new Map<string, Promise<unknown>>();
  /** The messages of each queue's latest listing, by fingerprint, for the detail view. */
  private readonly latest = new Map<string, Map<string, DeadLetter>>();

  /** `transport` is undefined when no broker is configured; `unavailable` then says why. */
  constructor(private readonly transport: Transport | undefined, consumers: readonly ConsumerPlan[], private readonly unavailable = 'no broker configured: start warren ui with --amqp <url> or AMQP_URL') {
    for (const plan of consumers) this.consumers.set(plan.id, plan);
  }

  /** Every consumer with its dead-letter queue and how many messages are in it now. */
  async overview(): Promise<DeadLetterOverview> {
    const transport = this.transport;
    const queues = await Promise.all([...this.consumers.values()].map(async (plan) => {
      const summary = { consumer: plan.id, queue: plan.queue, deadLetterQueue: plan.deadLetter.queue };
      if (!plan.deadLetter.queue) return { ...summary, problem: `dead letters go to exchange "${plan.deadLetter.exchange}" with no queue Warren declares` };
      if (!transport) return summary;
      try {
        // In turn with listings: a message a listing holds is not counted by the broker.
        const queue = plan.deadLetter.queue;
        return { ...summary, count: await this.exclusive(queue, async () => (await transport.inspectQueue(queue)).messageCount) };
      } catch (error) {
        return { ...summary, problem: /NOT_FOUND/.test((error as Error).message) ? 'not declared yet: the service has not started on this broker' : (error as Error).message };
      }
    }));
    return transport ? { queues } : { queues, problem: this.unavailable };
  }

  /** Up to `limit` messages of a consumer's dead-letter queue, grouped, newest first; none is removed. */
  async listing(consumerId: string, limit = MAX_HELD_MESSAGES): Promise<DeadLetterListing> {
    const { plan, queue, transport } = this.target(consumerId);
    return this.exclusive(queue, async () => {
      const total = (await transport.inspectQueue(queue)).messageCount;
      const letters = await listDeadLetters(transport, queue, { limit: Math.min(Math.max(1, limit), MAX_HELD_MESSAGES) });
      this.latest.set(queue, new Map(letters.map((letter) => [fingerprint(letter), letter])));
      return { consumer: plan.id, queue: plan.queue, deadLetterQueue: queue, total, read: letters.length, ...groupDeadLetters(letters) };
    });
  }

  /** One message of the latest listing; undefined when it is not there (replayed, discarded, or never listed). */
  async detail(consumerId: string, id: string): Promise<DeadLetterDetail | undefined> {
    const { queue } = this.target(consumerId);
    if (!this.latest.has(queue)) await this.listing(consumerId);
    const letter = this.latest.get(queue)?.get(id);
    return letter ? deadLetterDetail(letter) : undefined;
  }

  /**
   * Replays (back to the consumer's own queue) or discards the selected messages; a message that
   * failed in another queue is left where it is and reported.
   */
  async act(consumerId: string, action: 'replay' | 'discard', selection: Selection): Promise<ActionResult> {
    const { plan, queue, transport } = this.target(consumerId);
    const filter = (letter: DeadLetter) => selects(selection, letter);
    const limit = selection.kind === 'message' ? 1 : undefined;
    return this.exclusive(queue, async () => {
      this.latest.delete(queue);
      if (action === 'replay') {
        const report = await replayDeadLetters(transport, queue, { queue: plan.queue, filter, limit });
        return { action, moved: report.replayed, skipped: report.skipped, failed: report.failed, queue: plan.queue };
      }
      const report = await discardDeadLetters(transport, queue, { filter, limit });
      return { action, moved: report.discarded, skipped: report.skipped, failed: [], queue };
    });
  }

  private target(consumerId: string): { plan: ConsumerPlan; queue: string; transport: Transport } {
    const plan = this.consumers.get(consumerId);
    if (!plan) throw new ConsoleRequestError(404, `No consumer "${consumerId}" in this service.`);
    if (!plan.deadLetter.queue) throw new ConsoleRequestError(409, `${plan.id} keeps no dead-letter queue (its dead letters go to exchange "${plan.deadLetter.exchange}").`);
    if (!this.transport) throw new ConsoleRequestError(503, this.unavailable);
    return { plan, queue: plan.deadLetter.queue, transport: this.transport };
  }

  private exclusive<T>(queue: string, work: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(queue) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(work);
    this.locks.set(queue, next);
    void next.catch(() => undefined).finally(() => { if (this.locks.get(queue) === next) this.locks.delete(queue); });
    return next;
  }
}
