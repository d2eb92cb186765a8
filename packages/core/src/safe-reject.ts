import type { ConsumerPlan } from './consumer-plan';
import type { MessageContext } from './context';
import type { WarrenError } from './errors';
import { errorHeaders, userHeaders } from './failure-headers';
import { FRAME_MAX, headerFrameSize } from './frame-size';
import type { Logger } from './logger';
import type { Delivery, FieldTable, OutgoingMessage, Settlement, Transport } from './transport';

/**
 * The last resort of the failure path is a reject: `basic.nack` without requeue, and the broker
 * dead-letters the message itself through the queue's `x-dead-letter-exchange`. RabbitMQ 3.x then
 * parses the message's `x-death` header, and a forged one crashes the queue process — the message
 * is lost and the queue restarts (seen on 3.10.8):
 * - an array element that is not a table: `function_clause` in `rabbit_dead_letter`;
 * - an entry for this queue and reason `rejected` (the one the broker increments) whose `count` is
 *   not a number: `badarith`;
 * - such an entry with a floating-point `count`: dead-lettered, but the incremented count cannot be
 *   encoded, so every delivery of it from the dead-letter queue closes the consumer's connection.
 * A non-array `x-death` is reset by 3.10 with a warning; Warren does not count on that either.
 * So Warren rejects only messages whose `x-death` is absent or well-formed; any other is
 * dead-lettered as a copy that Warren publishes without it, then acked.
 */

/** Largest count taken as well-formed: a JavaScript number stays exact up to here. */
const MAX_COUNT = Number.MAX_SAFE_INTEGER;

/**
 * Why the broker must not dead-letter this delivery itself, or `undefined` when it may: `x-death`
 * absent, or an array of tables whose `count` (where present) is a whole number from 0 to 2^53 − 1,
 * whose `queue`, `reason` and `exchange` are strings and `routing-keys` an array of strings — and no
 * entry for `queue` with reason `rejected`: the broker adds 1 to that one's count, and a count sent
 * as floating point (`2.0`) decodes here as the integer 2, so it cannot be told apart.
 */
export function deathHeaderProblem(headers: FieldTable | undefined, queue: string): string | undefined {
  try {
    const deaths = headers?.['x-death'];
    if (deaths === undefined) return undefined;
    if (!Array.isArray(deaths)) return `x-death is ${describe(deaths)}, not an array of tables`;
    for (const [i, entry] of deaths.entries()) {
      if (!isTable(entry)) return `x-death[${i}] is ${describe(entry)}, not a table`;
      const count = entry.count;
      if (count !== undefined && !((typeof count === 'number' || typeof count === 'bigint') && Number.isSafeInteger(Number(count)) && Number(count) >= 0 && Number(count) <= MAX_COUNT)) {
        return `x-death[${i}].count is ${describe(count)}, not a whole number from 0 to ${MAX_COUNT}`;
      }
      for (const key of ['queue', 'reason', 'exchange']) {
        if (entry[key] !== undefined && typeof entry[key] !== 'string') return `x-death[${i}].${key} is ${describe(entry[key])}, not a string`;
      }
      const keys = entry['routing-keys'];
      if (keys !== undefined && !(Array.isArray(keys) && keys.every((k) => typeof k === 'string'))) return `x-death[${i}].routing-keys is ${describe(keys)}, not an array of strings`;
      if (entry.queue === queue && entry.reason === 'rejected') return `x-death[${i}] is an entry for this queue with reason "rejected", whose count the broker would increment`;
    }
    return undefined;
  } catch {
    return 'x-death cannot be read';
  }
}

/**
 * Settles a message the failure path could not republish: a reject when the broker can take it,
 * otherwise a copy without `x-death` published to the dead-letter exchange, confirmed, and the
 * original acked. If that publish fails too, the original is requeued after `holdMs` — never
 * rejected — and comes back through the failure path again.
 */
export class SafeRejecter {
  /** Contexts whose message was dead-lettered as a copy instead of being rejected. */
  private readonly copied = new WeakSet<MessageContext>();

  constructor(private readonly transport: Transport, private readonly logger: Logger, private readonly holdMs: number) {}

  /** True when {@link reject} dead-lettered this message as a copy (its settlement is then `ack`). */
  deadLetteredAsCopy(context: MessageContext): boolean {
    return this.copied.has(context);
  }

  /**
   * @param because what went wrong, for the log line (`could not retry the message (…)`)
   * @param cause why the message failed, for the copy's `x-warren-error-*` headers
   */
  async reject(plan: ConsumerPlan, delivery: Delivery, context: MessageContext, cause: WarrenError, because: string, fields: Record<string, unknown>): Promise<Settlement> {
    const problem = deathHeaderProblem(delivery.properties.headers, delivery.queue);
    if (problem === undefined) {
      this.logger.error(`${because}; rejecting it to the queue's dead-letter exchange, without Warren's reason headers`, { ...fields, deadLetterExchange: plan.deadLetter.exchange });
      return 'reject';
    }
    const { exchange, routingKey, queue } = plan.deadLetter;
    const message: OutgoingMessage = { exchange, routingKey, body: delivery.body, properties: { ...delivery.properties, headers: fittingHeaders(delivery, plan, context, cause), expiration: undefined }, mandatory: queue !== undefined };
    const logged = { ...fields, problem, deadLetterExchange: exchange };
    try {
      await this.transport.publish(message);
      this.copied.add(context);
      this.logger.error(`${because}; its x-death header is malformed, which RabbitMQ's own dead-lettering can crash on: dead-lettered a copy without it instead of rejecting it`, logged);
      return 'ack';
    } catch (error) {
      this.logger.error(`${because}; its x-death header is malformed and a copy without it could not be dead-lettered either: requeueing it (never rejected)`, { ...logged, copyError: (error as Error).message });
      await new Promise((resolve) => setTimeout(resolve, this.holdMs));
      return 'requeue';
    }
  }
}

/** The copy's headers: the publisher's, Warren's reasons if they fit in a frame, else fewer. */
function fittingHeaders(delivery: Delivery, plan: ConsumerPlan, context: MessageContext, cause: WarrenError): FieldTable {
  const user = userHeaders(delivery.properties.headers);
  const origin: FieldTable = {
    'x-warren-attempts': context.attempt,
    'x-warren-consumer': plan.id,
    'x-warren-original-exchange': context.exchange,
    'x-warren-original-routing-key': context.routingKey,
    'x-warren-original-queue': plan.queue,
  };
  const candidates: FieldTable[] = [
    { ...user, ...errorHeaders(cause), ...origin },
    { ...user, 'x-warren-error-code': String(cause.code), ...origin },
    { ...user, 'x-warren-error-code': String(cause.code) },
  ];
  // The original fit in a frame with its x-death, so its user headers alone always do.
  return candidates.find((headers) => headerFrameSize({ ...delivery.properties, headers }) <= FRAME_MAX) ?? user;
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value) && !(value instanceof Date);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (Buffer.isBuffer(value)) return 'a byte array';
  if (value instanceof Date) return 'a timestamp';
  switch (typeof value) {
    case 'string': return 'a string';
    case 'number': return Number.isFinite(value) ? `the number ${value}` : 'a non-finite number';
    case 'bigint': return `the integer ${value}`;
    case 'boolean': return 'a boolean';
    case 'object': return 'a table';
    default: return typeof value;
  }
}
