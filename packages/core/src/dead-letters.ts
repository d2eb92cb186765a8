import { ConfigurationError } from './errors';
import type { FetchedMessage, FieldTable, MessageProperties, Transport } from './transport';

/** A dead-lettered message as the DLQ tools show it. */
export interface DeadLetter {
  messageId?: string;
  /** `x-warren-error-code`, e.g. `VALIDATION_FAILED`. */
  errorCode?: string;
  errorMessage?: string;
  errorDetails?: string;
  /**
   * Where it was first published, as recorded when it failed (Warren's `x-warren-original-*`
   * headers, else the broker's most recent `x-death` entry). A label: replay never publishes there.
   */
  origin?: { exchange: string; routingKey: string };
  /** The queue that failed it: `x-warren-original-queue`, else the queue of the broker's most recent `x-death` entry. */
  queue?: string;
  attempts?: number;
  consumer?: string;
  contentType?: string;
  headers: FieldTable;
  body: Buffer;
}

/** What a replay did. */
export interface ReplayReport {
  replayed: number;
  /** Left in the queue because they did not match the filter. */
  skipped: number;
  /** Left in the queue because they could not be sent back. */
  failed: Array<{ messageId?: string; reason: string }>;
}

export interface ReplayOptions {
  /**
   * The consumer queue to send messages back to. Default: the dead-letter queue's name without its
   * `.dlq` suffix (Warren's naming). Messages recorded as failed in another queue stay where they are.
   */
  queue?: string;
  /** Only messages for which this returns true are replayed; see {@link deadLetterFilter}. */
  filter?: (letter: DeadLetter) => boolean;
  /** Replay at most this many. */
  limit?: number;
  /** Called after each replayed message with the count so far and the queue's size at the start. */
  onProgress?: (replayed: number, total: number) => void;
}

/**
 * Messages a run holds unacknowledged before giving them back. Each one holds a channel, so a
 * filtered replay of a huge queue stops here; run it again to go on.
 */
export const MAX_HELD_MESSAGES = 1000;

/** Dropped on replay: the consumer counts attempts afresh, and RabbitMQ's dead-lettering records are its own. */
const FAILURE_HEADERS = /^x-warren-(error-|attempt|consumer$|original-queue$|first-failure$|last-failure$|requeues$)|^x-death$|^x-first-death-|^x-last-death-|^x-delivery-count$/;

/** Reads the reason and origin headers of a dead-lettered message. */
export function describeDeadLetter(message: { body: Buffer; properties: MessageProperties }): DeadLetter {
  const headers = message.properties.headers ?? {};
  const text = (name: string) => (typeof headers[name] === 'string' ? (headers[name] as string) : undefined);
  const attempts = headers['x-warren-attempts'];
  return {
    messageId: message.properties.messageId,
    errorCode: text('x-warren-error-code'),
    errorMessage: text('x-warren-error-message'),
    errorDetails: text('x-warren-error-details'),
    origin: originOf(headers),
    queue: failedQueueOf(headers),
    attempts: typeof attempts === 'number' ? attempts : undefined,
    consumer: text('x-warren-consumer'),
    contentType: message.properties.contentType,
    headers,
    body: message.body,
  };
}

function originOf(headers: FieldTable): DeadLetter['origin'] {
  const exchange = headers['x-warren-original-exchange'];
  const routingKey = headers['x-warren-original-routing-key'];
  if (typeof exchange === 'string' && typeof routingKey === 'string') return { exchange, routingKey };
  // Dead-lettered by the broker itself (rejected, expired, queue length): its latest death names the origin.
  const death = latestDeath(headers);
  const keys = death?.['routing-keys'];
  if (death && typeof death.exchange === 'string' && Array.isArray(keys) && typeof keys[0] === 'string') return { exchange: death.exchange, routingKey: keys[0] };
  return undefined;
}

function failedQueueOf(headers: FieldTable): string | undefined {
  const queue = headers['x-warren-original-queue'];
  if (typeof queue === 'string') return queue;
  const death = latestDeath(headers);
  return typeof death?.queue === 'string' ? death.queue : undefined;
}

/** `x-death` lists the most recent death first. */
function latestDeath(headers: FieldTable): Record<string, unknown> | undefined {
  const deaths = headers['x-death'];
  const latest = Array.isArray(deaths) ? (deaths[0] as unknown) : undefined;
  return latest !== null && typeof latest === 'object' && !Array.isArray(latest) && !Buffer.isBuffer(latest) ? (latest as Record<string, unknown>) : undefined;
}

/**
 * A filter from a user's text: matches a message whose error code equals it or whose original
 * routing key contains it.
 */
export function deadLetterFilter(text: string): (letter: DeadLetter) => boolean {
  return (letter) => letter.errorCode === text || (letter.origin?.routingKey.includes(text) ?? false);
}

/**
 * Reads up to `limit` messages of a dead-letter queue without removing them: each is fetched, and
 * all are given back (requeued, in their places) once read, so none is fetched twice.
 *
 * @example
 * ```ts
 * for (const letter of await listDeadLetters(transport, 'billing.orders.dlq')) console.log(letter.errorCode);
 * ```
 */
export async function listDeadLetters(transport: Transport, queue: string, options: { limit?: number } = {}): Promise<DeadLetter[]> {
  const limit = Math.min(options.limit ?? 50, MAX_HELD_MESSAGES);
  const held: FetchedMessage[] = [];
  try {
    while (held.length < limit) {
      const message = await transport.get(queue);
      if (!message) break;
      held.push(message);
    }
    return held.map(describeDeadLetter);
  } finally {
    await giveBack(held);
  }
}

/**
 * Sends dead letters back to the queue that failed them — through the default exchange, addressed
 * to that queue, never to an exchange a header names — then acknowledges them (at-least-once: a
 * crash between the two leaves a duplicate, never a loss). The queue is `options.queue`, or the
 * dead-letter queue's name without `.dlq`; a message recorded as failed in another queue stays in
 * the dead-letter queue (reported in `failed`). Warren's failure headers and the broker's `x-death`
 * are dropped, so the consumer counts attempts afresh; the original exchange and routing key stay,
 * so the handler sees the same `ctx.routingKey`; `x-warren-replayed` counts replays. Publishes are
 * mandatory and confirmed: a message whose queue is gone stays in the dead-letter queue. Only the
 * messages present at the start are considered, so one that fails again is not replayed twice.
 *
 * @example
 * ```ts
 * const report = await replayDeadLetters(transport, 'billing.orders.dlq', { filter: deadLetterFilter('HANDLER_FAILED'), limit: 100 });
 * ```
 */
export async function replayDeadLetters(transport: Transport, queue: string, options: ReplayOptions = {}): Promise<ReplayReport> {
  const target = options.queue ?? (queue.endsWith('.dlq') ? queue.slice(0, -'.dlq'.length) : undefined);
  if (!target) throw new ConfigurationError(`Cannot tell which queue the dead letters of "${queue}" go back to: it is not named <queue>.dlq. Pass { queue } (warren dlq replay --queue <name>).`);
  const total = (await transport.inspectQueue(queue)).messageCount;
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const report: ReplayReport = { replayed: 0, skipped: 0, failed: [] };
  const held: FetchedMessage[] = [];
  try {
    for (let taken = 0; taken < total && report.replayed < limit && held.length < MAX_HELD_MESSAGES; taken++) {
      const message = await transport.get(queue);
      if (!message) break;
      const letter = describeDeadLetter(message);
      if (options.filter && !options.filter(letter)) {
        held.push(message);
        report.skipped++;
        continue;
      }
      if (letter.queue !== undefined && letter.queue !== target) {
        held.push(message);
        report.failed.push({ messageId: letter.messageId, reason: `it failed in queue "${letter.queue}", not "${target}"; replay it with { queue: '${letter.queue}' } if that is where it belongs` });
        continue;
      }
      try {
        await transport.publish({ exchange: '', routingKey: target, body: message.body, properties: replayProperties(message.properties, letter), mandatory: true }, { confirm: true });
      } catch (error) {
        held.push(message);
        report.failed.push({ messageId: letter.messageId, reason: (error as Error).message });
        continue;
      }
      await message.ack();
      report.replayed++;
      options.onProgress?.(report.replayed, total);
    }
  } finally {
    await giveBack(held);
  }
  return report;
}

/** What a discard did. */
export interface DiscardReport {
  discarded: number;
  /** Left in the queue because they did not match the filter. */
  skipped: number;
}

/**
 * Removes dead letters for good: each message present at the start that `filter` accepts (all when
 * there is none) is acknowledged, up to `limit`; the others are given back in their order. For
 * messages that can never succeed, after they were looked at (`listDeadLetters`): there is no undo.
 *
 * @example
 * ```ts
 * const { discarded } = await discardDeadLetters(transport, 'billing.orders.dlq', { filter: (l) => l.errorCode === 'DECODE_FAILED' });
 * ```
 */
export async function discardDeadLetters(transport: Transport, queue: string, options: Pick<ReplayOptions, 'filter' | 'limit'> = {}): Promise<DiscardReport> {
  const total = (await transport.inspectQueue(queue)).messageCount;
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const report: DiscardReport = { discarded: 0, skipped: 0 };
  const held: FetchedMessage[] = [];
  try {
    for (let taken = 0; taken < total && report.discarded < limit && held.length < MAX_HELD_MESSAGES; taken++) {
      const message = await transport.get(queue);
      if (!message) break;
      if (options.filter && !options.filter(describeDeadLetter(message))) {
        held.push(message);
        report.skipped++;
        continue;
      }
      await message.ack();
      report.discarded++;
    }
  } finally {
    await giveBack(held);
  }
  return report;
}

function replayProperties(properties: MessageProperties, letter: DeadLetter): MessageProperties {
  const headers: FieldTable = {};
  for (const [name, value] of Object.entries(properties.headers ?? {})) {
    if (!FAILURE_HEADERS.test(name)) headers[name] = value;
  }
  // Labels for the handler (ctx.exchange / ctx.routingKey), read because the copy arrives through
  // the default exchange addressed to its own queue; they never choose where it goes.
  if (letter.origin) {
    headers['x-warren-original-exchange'] = letter.origin.exchange;
    headers['x-warren-original-routing-key'] = letter.origin.routingKey;
  }
  const previous = properties.headers?.['x-warren-replayed'];
  headers['x-warren-replayed'] = (typeof previous === 'number' ? previous : 0) + 1;
  return { ...properties, headers, expiration: undefined };
}

/**
 * Requeues held messages, all at the end, so the loop above never fetches one of them again. One at
 * a time, in the order they were fetched: each was fetched on a channel of its own, and the broker
 * works on channels independently, so nacks sent together come back to the queue in any order (seen
 * on quorum queues under load).
 */
async function giveBack(held: readonly FetchedMessage[]): Promise<void> {
  for (const message of held) await message.nack(true).catch(() => undefined);
}
