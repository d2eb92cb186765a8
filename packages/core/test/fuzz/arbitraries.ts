import fc from 'fast-check';
import { gzipSync } from 'node:zlib';

/**
 * Hostile deliveries: what any service with publish rights on the vhost can put on a message.
 * Bodies of any bytes and sizes, every content type and encoding, header tables nested with
 * forbidden keys, arrays and odd types, forged `x-death` and `x-warren-*`, `replyTo` and
 * correlation ids. `act` (in a JSON body) tells the fuzz consumer how to behave, including throwing
 * odd values and asking for odd retry delays.
 */
export interface HostileDelivery {
  routingKey: 'event' | 'rpc';
  body: Buffer;
  contentType?: string;
  contentEncoding?: string;
  headers?: Record<string, unknown>;
  replyTo?: string;
  correlationId?: string;
  messageId?: string;
  priority?: number;
}

export const ACTS = ['ok', 'return-value', 'throw-error', 'throw-null-prototype', 'throw-bad-toString', 'throw-string', 'throw-undefined', 'retry-later', 'reject', 'ack'] as const;

const FORBIDDEN = ['__proto__', 'constructor', 'prototype'];
const WARREN_KEYS = ['x-warren-attempt', 'x-warren-attempts', 'x-warren-original-exchange', 'x-warren-original-routing-key', 'x-warren-original-queue', 'x-warren-first-failure', 'x-warren-error-code', 'x-warren-consumer'];
const BROKER_KEYS = ['x-death', 'x-first-death-queue', 'x-first-death-reason', 'x-first-death-exchange', 'x-last-death-queue', 'x-last-death-reason', 'x-delay', 'x-match'];

/** Short strings: AMQP short strings stop at 255 bytes, and long keys only slow the run. */
const shortText = fc.string({ maxLength: 12, unit: 'binary' }).map((s) => s.slice(0, 40));
const key = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...FORBIDDEN, ...WARREN_KEYS, ...BROKER_KEYS) }, { weight: 2, arbitrary: shortText });

/** A table whose keys are own properties even when they are `__proto__` (as a decoder or JSON.parse makes them). */
function table(entries: Array<[string, unknown]>): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [k, v] of entries) Object.defineProperty(result, k, { value: v, enumerable: true, writable: true, configurable: true });
  return result;
}

const { value: headerValue } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    shortText,
    fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
    fc.uint8Array({ maxLength: 16 }).map((bytes) => Buffer.from(bytes)),
    fc.date({ noInvalidDate: true, min: new Date(0), max: new Date(2 ** 31 * 1000) }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.array(fc.tuple(key, tie('value')), { maxLength: 4 }).map(table),
  ),
}));

const forgedDeath = fc.array(fc.oneof(
  shortText,
  fc.constant(null),
  fc.record({ reason: fc.constantFrom('expired', 'rejected', 'maxlen', 'junk'), queue: shortText, count: fc.integer({ min: -5, max: 1_000_000 }), exchange: shortText }),
), { maxLength: 3 });

const forgedWarren = fc.record({
  'x-warren-attempt': fc.oneof(fc.integer({ min: -5, max: 2000 }), shortText),
  'x-warren-original-exchange': fc.constantFrom('admin.delete-everything', '', 'amq.direct'),
  'x-warren-original-routing-key': shortText,
  'x-warren-first-failure': fc.oneof(fc.integer(), fc.constant(-1)),
}, { requiredKeys: [] });

const headers = fc.tuple(fc.array(fc.tuple(key, headerValue), { maxLength: 5 }), fc.option(forgedDeath, { nil: undefined }), forgedWarren).map(([entries, death, warren]) => {
  const result = table(entries);
  if (death !== undefined) result['x-death'] = death;
  return Object.assign(result, warren);
});

const act = fc.constantFrom(...ACTS);
const jsonBody = fc.record({ act, delay: fc.oneof(fc.constant(5), fc.constant(1.5), fc.constant(-1), fc.constant(Number.NaN), fc.integer({ min: 1, max: 40 })), extra: headerValue }, { requiredKeys: ['act'] })
  .map((value) => Buffer.from(JSON.stringify(value)));

const body = fc.oneof(
  { weight: 4, arbitrary: jsonBody },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes)) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 12_000 }).map((size) => Buffer.alloc(size, 0x7b)) },
  { weight: 1, arbitrary: jsonBody.map((b) => gzipSync(b)) },
  { weight: 1, arbitrary: fc.integer({ min: 5_000, max: 200_000 }).map((size) => gzipSync(Buffer.alloc(size, 0x20))) },
);

const contentType = fc.option(fc.oneof(
  fc.constantFrom('application/json', 'application/json; charset=utf-8', 'application/json; charset=latin1', 'text/plain', 'application/octet-stream', 'application/vnd.x+json', 'application/x-unknown', ''),
  shortText,
), { nil: undefined });

const contentEncoding = fc.option(fc.oneof(fc.constantFrom('gzip', 'deflate', 'identity', 'br', '', 'GZIP', 'x-gzip'), shortText), { nil: undefined });

/** `victims` are queue names a hostile replyTo may point at. */
export function hostileDelivery(victims: string[]): fc.Arbitrary<HostileDelivery> {
  const replyTo = fc.option(fc.oneof(fc.constantFrom('amq.rabbitmq.reply-to.forged', 'amq.rabbitmq.reply-to.', ...victims), shortText), { nil: undefined });
  return fc.record({
    routingKey: fc.constantFrom('event' as const, 'rpc' as const),
    body,
    contentType,
    contentEncoding,
    headers: fc.option(headers, { nil: undefined }),
    replyTo,
    correlationId: fc.option(shortText, { nil: undefined }),
    messageId: fc.option(shortText, { nil: undefined }),
    priority: fc.option(fc.integer({ min: 0, max: 255 }), { nil: undefined }),
  }, { requiredKeys: ['routingKey', 'body'] });
}
