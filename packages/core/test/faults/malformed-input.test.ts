import 'reflect-metadata';
import { expect } from 'chai';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsInt, IsString, IsUUID, Matches, Max, Min, ValidateNested } from 'class-validator';
import { randomUUID } from 'node:crypto';
import { container, injectable } from 'tsyringe';
import { AmqpTransport, Consumer, type FieldTable, Warren } from '../../src';
import { AMQP_URL, describeWithBroker } from '../support/broker';
import { eventually } from './ledger';
import { RecordingLogger, scenarioNames } from './service';

class Line {
  @IsString() @Matches(/^[A-Z0-9-]{1,16}$/) sku!: string;
  @IsInt() @Min(1) @Max(1_000) qty!: number;
}

class Order {
  @IsUUID() orderId!: string;
  /** Letters, spaces and a little punctuation: no control, NUL or bidirectional-override characters. */
  @IsString() @Matches(/^[A-Za-z][A-Za-z .'-]{0,63}$/) customer!: string;
  @IsInt() @Min(0) @Max(Number.MAX_SAFE_INTEGER) cents!: number;
  @ValidateNested({ each: true }) @Type(() => Line) @ArrayMaxSize(50) lines!: Line[];
}

/** What the handler saw: only well-formed orders may ever get here. */
@injectable()
class Seen {
  orders: string[] = [];
}

const MAX_BODY_BYTES = 64 * 1024;

@injectable()
class Orders {
  constructor(private readonly seen: Seen) {}

  @Consumer('${EX}', 'order', { queue: '${Q}.orders', maxBodyBytes: MAX_BODY_BYTES, validation: { forbidNonWhitelisted: true } })
  async order(order: Order): Promise<void> {
    this.seen.orders.push(order.orderId);
  }
}

/** One malformed input: raw bytes, their content type and headers, and the error code it must be dead-lettered with. */
interface Case { name: string; body: Buffer; contentType?: string; headers?: FieldTable; code: 'DECODE_FAILED' | 'VALIDATION_FAILED' | 'PAYLOAD_TOO_LARGE' | 'UNSUPPORTED_CONTENT_TYPE' }

const valid = () => ({ orderId: randomUUID(), customer: 'Ada Lovelace', cents: 1250, lines: [{ sku: 'A-1', qty: 2 }] });
const json = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8');
const text = (value: string) => Buffer.from(value, 'utf8');
const JSON_TYPE = 'application/json';

/** At least 40 ways a body or its headers can be wrong; each is valid() broken in one way. */
function corpus(): Case[] {
  const deepArrays = '['.repeat(30_000) + ']'.repeat(30_000);
  const deepObjects = '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000);
  const cases: Case[] = [
    // Not JSON at all
    { name: 'empty body', body: Buffer.alloc(0), contentType: JSON_TYPE, code: 'DECODE_FAILED' },
    { name: 'whitespace only', body: text('   \n '), contentType: JSON_TYPE, code: 'DECODE_FAILED' },
    { name: 'truncated JSON', body: text('{"orderId": '), contentType: JSON_TYPE, code: 'DECODE_FAILED' },
    { name: 'trailing garbage', body: text(`${JSON.stringify(valid())} x`), contentType: JSON_TYPE, code: 'DECODE_FAILED' },
    { name: 'single quotes', body: text("{'orderId': 'x'}"), contentType: JSON_TYPE, code: 'DECODE_FAILED' },
    { name: 'NaN literal', body: text('{"cents": NaN}'), contentType: JSON_TYPE, code: 'DECODE_FAILED' },
    { name: 'comment in JSON', body: text('{"cents": 1 /* no */}'), contentType: JSON_TYPE, code: 'DECODE_FAILED' },
    { name: 'UTF-8 BOM before valid JSON', body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), json(valid())]), contentType: JSON_TYPE, code: 'DECODE_FAILED' },
    { name: 'invalid UTF-8 in a string', body: Buffer.concat([text('{"customer": "A'), Buffer.from([0xc3, 0x28]), text('"}')]), contentType: JSON_TYPE, code: 'DECODE_FAILED' },
    { name: 'overlong UTF-8 encoding', body: Buffer.concat([text('{"customer": "'), Buffer.from([0xc0, 0xaf]), text('"}')]), contentType: JSON_TYPE, code: 'DECODE_FAILED' },
    { name: 'UTF-8-encoded lone surrogate', body: Buffer.concat([text('{"customer": "'), Buffer.from([0xed, 0xa0, 0x80]), text('"}')]), contentType: JSON_TYPE, code: 'DECODE_FAILED' },
    { name: 'UTF-16 body', body: Buffer.from(JSON.stringify(valid()), 'utf16le'), contentType: JSON_TYPE, code: 'DECODE_FAILED' },
    { name: 'PNG bytes as JSON', body: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]), contentType: JSON_TYPE, code: 'DECODE_FAILED' },
    { name: 'binary without a content type', body: Buffer.from([0x00, 0xff, 0x10, 0x80]), code: 'DECODE_FAILED' },
    { name: 'plain words without a content type', body: text('hello'), code: 'DECODE_FAILED' },
    // Wrong content type
    { name: 'JSON sent as text/plain', body: json(valid()), contentType: 'text/plain', code: 'UNSUPPORTED_CONTENT_TYPE' },
    { name: 'XML', body: text('<order/>'), contentType: 'application/xml', code: 'UNSUPPORTED_CONTENT_TYPE' },
    { name: 'binary as octet-stream', body: Buffer.from([1, 2, 3]), contentType: 'application/octet-stream', code: 'UNSUPPORTED_CONTENT_TYPE' },
    { name: 'JSON with a latin1 charset', body: json(valid()), contentType: 'application/json; charset=latin1', code: 'UNSUPPORTED_CONTENT_TYPE' },
    { name: 'garbage content type', body: json(valid()), contentType: '\u0000;;==', code: 'UNSUPPORTED_CONTENT_TYPE' },
    // Over the cap
    { name: 'body over maxBodyBytes', body: json({ ...valid(), customer: 'A'.repeat(MAX_BODY_BYTES) }), contentType: JSON_TYPE, code: 'PAYLOAD_TOO_LARGE' },
    // JSON, but not an order
    { name: 'null', body: text('null'), contentType: JSON_TYPE, code: 'VALIDATION_FAILED' },
    { name: 'an array', body: text('[]'), contentType: JSON_TYPE, code: 'VALIDATION_FAILED' },
    { name: 'a string', body: text('"order"'), contentType: JSON_TYPE, code: 'VALIDATION_FAILED' },
    { name: 'a number', body: text('42'), contentType: JSON_TYPE, code: 'VALIDATION_FAILED' },
    { name: 'a boolean', body: text('true'), contentType: JSON_TYPE, code: 'VALIDATION_FAILED' },
    { name: 'empty object', body: text('{}'), contentType: JSON_TYPE, code: 'VALIDATION_FAILED' },
    // Wrong types and values
    { name: 'orderId as a number', body: json({ ...valid(), orderId: 7 }), contentType: JSON_TYPE, code: 'VALIDATION_FAILED' },
    { name: 'orderId not a UUID', body: json({ ...valid(), orderId: 'order-7' }), contentType: JSON_TYPE, code: 'VALIDATION_FAILED' },
    { name: 'qty as a string', body: json({ ...valid(), lines: [{ sku: 'A-1', qty: '2' }] }), contentType: JSON_TYPE, code: 'VALIDATION_FAILED' },
    { name: 'qty a fraction', body: json({ ...valid(), lines: [{ sku: 'A-1', qty: 1.5 }] }), contentType: JSON_TYPE, code: 'VALIDATION_FAILED' },
    { name: 'cents beyond 2^53', body: text(JSON.stringify(valid()).replace('"cents":1250', '"cents":9007199254740993')), contentType: JSON_TYPE, code: 'VALIDATION_FAILED' },
    { name: 'cents 1e400 (Infinity)', body: text(JSON.stringify(valid()).replace('"cents":1250', '"cents":1e400')), contentType: JSON_TYPE, code: 'VALIDATION_FAILED' },
    { name: 'negative cents', body: json({ ...valid(), cents: -1 }), contentType: JSON_TYPE, code: 'VALIDATION_FAILED' },
    { name: 'lines an object', body: json({ ...valid(), lines: { sku: 'A-1', qty: 1 } }), contentType: JSON_TYPE, code: 'VALIDATION_FAILED' },
    { name: 'a null line', body: json({ ...valid(), lines: [null] }), contentType: JSON_TYPE, code: 'VALIDATION_FAILED' },
    { name: 'too many lines', body: json({ ...valid(), lines: Array.from({ length: 51 }, () => ({ sku: 'A-1', qty: 1 })) }), contentType: JSON_TYPE, code: 'VALIDATION_FAILED' },
    { name: 'duplicate key, last one wrong', body: text(JSON.stringify(valid()).replace('"cents":1250', '"cents":1250,"cents":"lots"')), contentType: JSON_TYPE, code: 'VALIDATION_FAILED' },
    { name: 'extra field (forbidNonWhitelisted)', body: json({ ...valid(), isAdmin: true }), contentType: JSON_TYPE, code: 'VALIDATION_FAILED' },
    { name: 'extra field in a line', body: json({ ...valid(), lines: [{ sku: 'A-1', qty: 1, discount: 100 }] }), contentType: JSON_TYPE, code: 'VALIDATION_FAILED' },
    { name: 'NUL in a string', body: json({ ...valid(), customer: 'Ada\u0000Lovelace' }), contentType: JSON_TYPE, code: 'VALIDATION_FAILED' },
    { name: 'RTL override in a string', body: json({ ...valid(), customer: 'Ada \u202eecalevoL' }), contentType: JSON_TYPE, code: 'VALIDATION_FAILED' },
    { name: 'emoji in a sku', body: json({ ...valid(), lines: [{ sku: 'A-\u{1f600}', qty: 1 }] }), contentType: JSON_TYPE, code: 'VALIDATION_FAILED' },
    { name: 'arrays nested 30,000 deep', body: text(`{"orderId":"${randomUUID()}","customer":"Ada","cents":1,"lines":${deepArrays}}`), contentType: JSON_TYPE, code: 'VALIDATION_FAILED' },
    { name: 'objects nested 10,000 deep', body: text(`{"orderId":"${randomUUID()}","customer":"Ada","cents":1,"lines":[],"extra":${deepObjects}}`), contentType: JSON_TYPE, code: 'VALIDATION_FAILED' },
    // Prototype pollution attempts
    { name: '__proto__ key in the body', body: text(`{"__proto__":{"polluted":"yes"},${JSON.stringify(valid()).slice(1)}`), contentType: JSON_TYPE, code: 'VALIDATION_FAILED' },
    { name: '__proto__ key in a line', body: text(JSON.stringify(valid()).replace('{"sku"', '{"__proto__":{"polluted":"yes"},"sku"')), contentType: JSON_TYPE, code: 'VALIDATION_FAILED' },
    { name: 'constructor.prototype in the body', body: text(`{"constructor":{"prototype":{"polluted":"yes"}},${JSON.stringify(valid()).slice(1)}`), contentType: JSON_TYPE, code: 'VALIDATION_FAILED' },
    { name: 'prototype key in the body', body: text(`{"prototype":{"polluted":"yes"},${JSON.stringify(valid()).slice(1)}`), contentType: JSON_TYPE, code: 'VALIDATION_FAILED' },
    // Forbidden header keys are dropped at every depth (test/security covers that); the body decides.
    { name: '__proto__ header, no lines', body: json({ ...valid(), lines: undefined }), contentType: JSON_TYPE, headers: JSON.parse('{"__proto__":{"polluted":"yes"},"x":{"__proto__":{"polluted":"yes"}}}') as FieldTable, code: 'VALIDATION_FAILED' },
    { name: 'constructor header, bad cents', body: json({ ...valid(), cents: -1 }), contentType: JSON_TYPE, headers: { constructor: 'yes', list: [{ prototype: { polluted: 'yes' } }] }, code: 'VALIDATION_FAILED' },
  ];
  return cases;
}

describeWithBroker('Under faults: malformed input', function () {
  it('dead-letters each of 50 malformed inputs with its reason, and keeps consuming', async function () {
    this.timeout(60_000);
    const { exchange, queue: prefix, env } = scenarioNames();
    const queue = prefix.replace(/\.ticks$/, '.orders');
    const seen = new Seen();
    const scope = container.createChildContainer();
    scope.registerInstance(Seen, seen);
    const prototypeBefore = Object.getOwnPropertyNames(Object.prototype).sort();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const app = await Warren.start({ url: AMQP_URL, handlers: [Orders], container: scope, env, logger: new RecordingLogger(), telemetry: false });
    const admin = new AmqpTransport({ url: AMQP_URL });
    await admin.connect();
    try {
      const cases = corpus();
      expect(cases.length).to.be.at.least(40);
      for (const [index, c] of cases.entries()) {
        await admin.publish({ exchange, routingKey: 'order', body: c.body, properties: { contentType: c.contentType, headers: c.headers, messageId: `case-${index}`, deliveryMode: 2 } });
      }
      // The consumer is still running: a well-formed order sent after the corpus is handled.
      const good = valid();
      await app.publish(exchange, 'order', good);
      await eventually('the good order is handled', () => seen.orders.includes(good.orderId), 30_000);
      await eventually('every case is dead-lettered', async () => (await admin.inspectQueue(`${queue}.dlq`)).messageCount === cases.length, 30_000);

      const reasons = new Map<string, unknown>();
      for (let dead = await admin.get(`${queue}.dlq`); dead; dead = await admin.get(`${queue}.dlq`)) {
        reasons.set(dead.properties.messageId!, dead.properties.headers?.['x-warren-error-code']);
        await dead.ack();
      }
      const mismatches = cases.map((c, i) => ({ name: c.name, expected: c.code, got: reasons.get(`case-${i}`) })).filter((r) => r.expected !== r.got);
      console.log(`      ledger | malformed input | cases ${cases.length} | dead-lettered ${reasons.size} | wrong reason ${mismatches.length} | handled ${seen.orders.length} | unhandled rejections ${unhandled.length}`);
      expect(mismatches).to.deep.equal([]);
      expect(seen.orders).to.deep.equal([good.orderId]);
      expect(unhandled).to.deep.equal([]);
      expect(Object.getOwnPropertyNames(Object.prototype).sort()).to.deep.equal(prototypeBefore);
      expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await app.close();
      for (const q of [queue, `${queue}.dlq`, `${queue}.redelivered`]) await admin.deleteQueue(q).catch(() => undefined);
      await admin.deleteExchange(exchange).catch(() => undefined);
      await admin.close();
    }
  });
});
