import { expect } from 'chai';
import { deflateSync, gzipSync } from 'node:zlib';
import { until } from '../support/until';
import { Calls, RequestConsumers, requestQueues, Seen } from './handlers';
import { drain, type SecurityContext } from './harness';

/** Header tables as a hostile publisher sends them: JSON.parse makes `__proto__` an own key. */
const HOSTILE_HEADERS = JSON.parse(`{
  "x": { "__proto__": { "isAdmin": true }, "ok": 1 },
  "list": [ { "constructor": { "prototype": { "isAdmin": true } }, "kept": "yes" }, 2, [ { "__proto__": { "isAdmin": true } } ] ],
  "constructor": "top-level",
  "prototype": { "isAdmin": true },
  "deep": { "a": { "b": { "prototype": 1, "c": "d" } } }
}`) as Record<string, unknown>;

export function headerAndEncodingSpecs(ctx: SecurityContext): void {
  describe('untrusted headers and bodies', () => {
    let seen: Seen;
    beforeEach(() => {
      seen = new Seen();
      ctx.scope.registerInstance(Seen, seen);
    });
    afterEach(() => ctx.cleanup(requestQueues(ctx.env.Q!)));

    it('drops __proto__, constructor and prototype at every depth and hands the handler plain data', async () => {
      const before = Object.getOwnPropertyNames(Object.prototype).sort();
      await ctx.start({ handlers: [RequestConsumers] });
      const admin = await ctx.admin();
      await admin.publish({ exchange: ctx.env.EX!, routingKey: 'event', body: Buffer.from('{}'), properties: { contentType: 'application/json', headers: HOSTILE_HEADERS } });
      await until(() => seen.count('event') === 1, 5000);
      const context = seen.calls[0]!.context;
      const x = context.header('x') as Record<string, unknown>;
      expect(Object.getPrototypeOf(x)).to.equal(null);
      expect(x.isAdmin).to.equal(undefined);
      expect({ ...x }).to.deep.equal({ ok: 1 });
      const list = context.header('list') as unknown[];
      expect(JSON.parse(JSON.stringify(list))).to.deep.equal([{ kept: 'yes' }, 2, [{}]]);
      expect((list[0] as Record<string, unknown>).isAdmin).to.equal(undefined);
      expect(Object.getPrototypeOf(list[0])).to.equal(null);
      expect(context.header('constructor')).to.equal(undefined);
      expect(context.header('prototype')).to.equal(undefined);
      expect(JSON.parse(JSON.stringify(context.header('deep')))).to.deep.equal({ a: { b: { c: 'd' } } });
      expect(({} as Record<string, unknown>).isAdmin).to.equal(undefined);
      expect(Object.getOwnPropertyNames(Object.prototype).sort()).to.deep.equal(before);
      expect(ctx.settled.map((e) => e.outcome)).to.deep.equal(['handled']);
    });

    it('decodes gzip and deflate bodies, and compresses when a route opts in', async () => {
      const app = await ctx.start({ handlers: [RequestConsumers] });
      const admin = await ctx.admin();
      const body = Buffer.from(JSON.stringify({ note: 'x'.repeat(1000) }));
      await admin.publish({ exchange: ctx.env.EX!, routingKey: 'event', body: gzipSync(body), properties: { contentType: 'application/json', contentEncoding: 'gzip' } });
      await admin.publish({ exchange: ctx.env.EX!, routingKey: 'event', body: deflateSync(body), properties: { contentType: 'application/json', contentEncoding: 'deflate' } });
      await app.get(Calls).compressed({ note: 'x'.repeat(1000) });
      await app.get(Calls).deflated({ note: 'x'.repeat(1000) });
      await app.publish(ctx.env.EX!, 'event', { note: 'x'.repeat(1000) }, { compress: 'gzip' });
      await until(() => seen.count('event') === 5, 5000);
      for (const call of seen.calls) expect(call.payload).to.deep.equal({ note: 'x'.repeat(1000) });
      const published = seen.calls.slice(2).map((c) => c.context);
      expect(published.map((c) => c.properties.contentEncoding)).to.deep.equal(['gzip', 'deflate', 'gzip']);
      expect(published[0]!.body.subarray(0, 2)).to.deep.equal(Buffer.from([0x1f, 0x8b]));
      expect(published[0]!.body.length).to.be.below(100);
    });

    it('dead-letters unknown encodings, corrupt data and zip bombs with their reason', async () => {
      await ctx.start({ handlers: [RequestConsumers] });
      const admin = await ctx.admin();
      const cases: Array<[string, Buffer, string]> = [
        ['br', Buffer.from('{}'), 'UNSUPPORTED_CONTENT_ENCODING'],
        ['gzip', Buffer.from('not gzip at all'), 'DECODE_FAILED'],
        ['gzip', gzipSync(Buffer.alloc(32 * 1024 * 1024)), 'PAYLOAD_TOO_LARGE'],
      ];
      for (const [i, [encoding, body]] of cases.entries()) {
        await admin.publish({ exchange: ctx.env.EX!, routingKey: 'event', body, properties: { contentType: 'application/json', contentEncoding: encoding, messageId: `case-${i}` } });
      }
      await until(async () => (await admin.inspectQueue(`${ctx.env.Q}.event.dlq`)).messageCount === cases.length, 10_000);
      const dead = await drain(admin, `${ctx.env.Q}.event.dlq`);
      const codes = Object.fromEntries(dead.map((d) => [d.properties.messageId, d.properties.headers?.['x-warren-error-code']]));
      expect(codes).to.deep.equal({ 'case-0': cases[0]![2], 'case-1': cases[1]![2], 'case-2': cases[2]![2] });
      expect(seen.count('event')).to.equal(0);
    });

    describe('a message the failure path must reject (its retry copy does not fit in a frame)', () => {
      // Headers that fit, until Warren's retry headers (with a 900-character error message) are added.
      const pad = 'p'.repeat(131_072 - 900);
      const failing = Buffer.from(JSON.stringify({ fail: 'x'.repeat(900) }));
      const publishFailing = async (admin: Awaited<ReturnType<SecurityContext['admin']>>, messageId: string, death: unknown) => admin.publish({
        exchange: ctx.env.EX!, routingKey: 'event', body: failing,
        properties: { contentType: 'application/json', messageId, deliveryMode: 2, headers: { pad, 'x-death': death } as Record<string, unknown> },
      });

      it('is never rejected to the broker with a malformed x-death: a copy without it reaches the dead-letter queue, and the queue keeps working', async () => {
        await ctx.start({ handlers: [RequestConsumers] });
        const admin = await ctx.admin();
        const queue = `${ctx.env.Q}.event`;
        const forged: Record<string, unknown> = {
          string: 'junk',
          table: { queue: 'x', reason: 'rejected' },
          'array of strings': ['junk'],
          'huge count': [{ queue, reason: 'rejected', count: 9223372036854775807n }],
          'count the broker increments is a string': [{ queue, reason: 'rejected', count: 'x' }],
        };
        for (const [name, death] of Object.entries(forged)) await publishFailing(admin, name, death);
        await until(async () => (await admin.inspectQueue(`${queue}.dlq`)).messageCount === 5, 10_000);
        const dead = await drain(admin, `${queue}.dlq`);
        expect(dead.map((d) => d.properties.messageId).sort()).to.deep.equal(Object.keys(forged).sort());
        for (const letter of dead) {
          expect(letter.properties.headers, letter.properties.messageId).not.to.have.property('x-death');
          expect(letter.properties.headers?.['x-warren-error-code'], letter.properties.messageId).to.equal('HANDLER_FAILED');
          expect(letter.properties.headers?.['x-warren-original-queue']).to.equal(queue);
          expect(letter.properties.headers?.pad).to.equal(pad);
        }
        expect(ctx.settled.filter((e) => e.consumer.endsWith('.event')).map((e) => e.outcome)).to.deep.equal(Array(5).fill('dead-lettered'));
        expect(ctx.logger.count('dead-lettered a copy without it instead of rejecting it')).to.equal(5);
        // The queue is alive and consuming (on RabbitMQ 3.10 a reject crashed its process and lost the message).
        await admin.publish({ exchange: ctx.env.EX!, routingKey: 'event', body: Buffer.from('{}'), properties: { contentType: 'application/json', messageId: 'after' } });
        await until(() => seen.count('event', 'after') === 1, 5000);
        expect((await admin.inspectQueue(queue)).messageCount).to.equal(0);
      });

      it('is still rejected to the queue\'s own dead-letter exchange when its x-death is well-formed', async () => {
        await ctx.start({ handlers: [RequestConsumers] });
        const admin = await ctx.admin();
        const queue = `${ctx.env.Q}.event`;
        await publishFailing(admin, 'well-formed', [{ queue: `${queue}.retry.20`, reason: 'expired', count: 1, exchange: '', 'routing-keys': [queue] }]);
        await until(async () => (await admin.inspectQueue(`${queue}.dlq`)).messageCount === 1, 10_000);
        const [dead] = await drain(admin, `${queue}.dlq`);
        // The broker dead-lettered it: its newest x-death entry says so (3.x keeps the older entry, 4.x
        // ignores an x-death a client published).
        const deaths = dead!.properties.headers?.['x-death'] as Array<Record<string, unknown>>;
        expect([deaths[0]!.queue, deaths[0]!.reason]).to.deep.equal([queue, 'rejected']);
        expect(dead!.properties.headers).not.to.have.property('x-warren-error-code');
        expect(ctx.settled.filter((e) => e.consumer.endsWith('.event')).map((e) => e.outcome)).to.deep.equal(['rejected']);
      });
    });
  });
}
