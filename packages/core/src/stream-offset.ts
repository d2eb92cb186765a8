import { ConfigurationError, InvalidStreamOffsetError } from './errors';
import type { FieldTable } from './transport';

/**
 * Stream offsets: where a stream consumer starts reading, and the offset of each delivery.
 *
 * RabbitMQ takes the start position as the `x-stream-offset` consumer argument of basic.consume:
 * `first`, `last`, `next`, a non-negative integer offset, a timestamp, or an interval string
 * (`<n>Y|M|D|h|m|s`). It is strict in an unhelpful way: a malformed value (a fraction, a negative
 * number, `"xs"`, a `Date` as rabbitmq-client encodes it) closes the whole connection with
 * INTERNAL_ERROR, on 3.10 and 4.0 alike. So every value is checked here, before it is sent, and
 * Warren sends only the forms it has checked: names, integers, and intervals in seconds (a `Date`
 * becomes "the last N seconds": rabbitmq-client cannot encode AMQP's timestamp field type).
 */

/** The header RabbitMQ sets on every delivery from a stream: the message's offset in the stream. */
export const STREAM_OFFSET_HEADER = 'x-stream-offset';

/** A time span: a whole number ≥ 1 with `s` (seconds), `m` (minutes), `h` (hours) or `d` (days), e.g. `'7d'`. */
export type StreamInterval = `${number}${'s' | 'm' | 'h' | 'd'}`;

/**
 * Where a stream consumer starts reading when no offset is stored for it:
 * - `'first'`: the oldest message the stream still holds;
 * - `'last'`: the last chunk the broker wrote (RabbitMQ stores messages in chunks, so this may be
 *   several messages; the in-memory broker starts at the last message);
 * - `'next'`: only messages appended from now on (RabbitMQ's default);
 * - a number: that offset (or the oldest one kept, if retention removed it; or, beyond the end, the
 *   consumer waits for it);
 * - a `Date`, or an interval such as `'1h'`, `'7d'`: messages appended since then (to the second;
 *   RabbitMQ starts at the chunk holding that time, so a few earlier messages may come too).
 */
export type StreamOffset = 'first' | 'last' | 'next' | number | Date | StreamInterval;

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;
const INTERVAL = /^([1-9][0-9]{0,9})([smhd])$/;
/** Intervals beyond this (about 100 years) are refused: they are typos, and RabbitMQ's arithmetic is unchecked. */
const MAX_INTERVAL_SECONDS = 100 * 365 * 86_400;

/** What `x-stream-offset` will say: a name, an offset, or "the last N seconds". */
export type StreamStart =
  | { readonly kind: 'first' | 'last' | 'next' }
  | { readonly kind: 'offset'; readonly offset: number }
  | { readonly kind: 'since'; readonly seconds: number };

/**
 * Checks a configured start position; throws `InvalidStreamOffsetError` naming `what` and the accepted forms.
 * A `Date` or interval is kept as a duration; {@link startArgument} turns it into seconds when it is sent.
 */
export function parseStreamOffset(value: unknown, what: string, now = Date.now()): StreamStart | { readonly kind: 'at'; readonly at: number } {
  const refuse = (why: string): never => {
    throw new InvalidStreamOffsetError(`${what}: ${why}. Use 'first', 'last', 'next', an offset (a whole number ≥ 0), a Date in the past, or a span such as '30s', '15m', '2h', '7d'.`);
  };
  if (value === 'first' || value === 'last' || value === 'next') return { kind: value };
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) refuse(`the offset ${String(value)} is not a whole number ≥ 0`);
    return { kind: 'offset', offset: value };
  }
  if (value instanceof Date) {
    const at = value.getTime();
    if (Number.isNaN(at)) refuse('the Date is invalid');
    if (at > now) refuse(`the Date ${value.toISOString()} is in the future`);
    return { kind: 'at', at };
  }
  if (typeof value === 'string') {
    const match = INTERVAL.exec(value);
    if (!match) refuse(`${JSON.stringify(value.slice(0, 40))} is not a span like '30s', '15m', '2h' or '7d' (a whole number ≥ 1 and one of s, m, h, d)`);
    const seconds = Number(match![1]) * UNIT_SECONDS[match![2] as keyof typeof UNIT_SECONDS];
    if (seconds > MAX_INTERVAL_SECONDS) refuse(`${value} is longer than 100 years`);
    return { kind: 'since', seconds };
  }
  return refuse(`${value === null ? 'null' : typeof value} is not a stream offset`);
}

/** A start position as checked by {@link parseStreamOffset}. */
export type CheckedStreamOffset = ReturnType<typeof parseStreamOffset>;

/**
 * The `x-stream-offset` consumer argument for a checked start position, computed when the consumer
 * attaches: a `Date` becomes the seconds since it, rounded up (at least 1: RabbitMQ refuses `0s`),
 * so the reader starts at or a little before it, never after.
 */
export function startArgument(start: CheckedStreamOffset, now = Date.now()): string | number {
  switch (start.kind) {
    case 'first': case 'last': case 'next': return start.kind;
    case 'offset': return start.offset;
    case 'since': return `${start.seconds}s`;
    case 'at': return `${Math.max(1, Math.ceil((now - start.at) / 1000))}s`;
  }
}

/**
 * Checks an `x-stream-offset` consumer argument as a transport is about to send it: a name, a
 * whole number ≥ 0, or an interval (`<n>Y|M|D|h|m|s`, n ≥ 1), as RabbitMQ accepts them. Anything else
 * would close the connection, so it is refused with `InvalidStreamOffsetError` instead.
 */
export function assertStreamOffsetArgument(args: FieldTable | undefined, queue: string): void {
  if (!args || !Object.prototype.hasOwnProperty.call(args, STREAM_OFFSET_HEADER)) return;
  const value = args[STREAM_OFFSET_HEADER];
  if (value === 'first' || value === 'last' || value === 'next') return;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return;
  if (typeof value === 'string' && /^[1-9][0-9]{0,9}[YMDhms]$/.test(value)) return;
  throw new InvalidStreamOffsetError(`The consumer argument x-stream-offset ${JSON.stringify(value)} for queue "${queue}" is not one RabbitMQ accepts ('first', 'last', 'next', a whole number ≥ 0, or an interval such as '3600s'); it was not sent, because RabbitMQ closes the connection on a malformed one.`);
}

/**
 * The offset of a delivery from a stream, read from its `x-stream-offset` header. The broker sets
 * it, but a header is untrusted input like any other: only a whole number from 0 to 2^53 − 1 is
 * taken (RabbitMQ's offsets are unsigned 64-bit; no stream reaches 2^53 messages). Undefined otherwise.
 */
export function streamOffsetOf(headers: FieldTable | undefined): number | undefined {
  if (!headers || !Object.prototype.hasOwnProperty.call(headers, STREAM_OFFSET_HEADER)) return undefined;
  const value = headers[STREAM_OFFSET_HEADER];
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  if (typeof value === 'bigint' && value >= 0n && value <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(value);
  return undefined;
}

/**
 * A stream's `x-max-age` from a span such as `'7d'`: RabbitMQ's units are `Y M D h m s`, so days
 * become `D` (RabbitMQ reads `m` as minutes and `M` as months; `d` it refuses).
 */
export function maxAgeArgument(value: unknown, what: string): string {
  const match = typeof value === 'string' ? INTERVAL.exec(value) : null;
  if (!match) throw new ConfigurationError(`${what}: maxAge ${JSON.stringify(value)} is not a span like '30s', '15m', '12h' or '7d' (a whole number ≥ 1 and one of s, m, h, d).`);
  return `${match[1]}${match[2] === 'd' ? 'D' : match[2]}`;
}
