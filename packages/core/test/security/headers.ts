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
  });
}
