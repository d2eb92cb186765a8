import { expect } from 'chai';
import { InvalidStreamOffsetError, TopologyError } from '../../src/errors';
import type { Delivery, FieldTable, QueueSpec, Settlement } from '../../src/transport';
import { DeliveryLog, eventually, rejectionOf, sleep, type ConformanceContext } from './context';

/** A stream as Warren declares one: durable, `x-queue-type: stream`, retention arguments as given. */
export function streamQueue(name: string, args: FieldTable = {}): QueueSpec {
  return { name, durable: true, arguments: { 'x-queue-type': 'stream', ...args } };
}

const offsetOf = (delivery: Delivery): unknown => delivery.properties.headers?.['x-stream-offset'];

/** Streams: an append-only log with offsets, read by any number of independent readers. */
export function streamSpecs(ctx: ConformanceContext): void {
  describe('streams', () => {
    async function streamWith(prefix: string, bodies: string[], args?: FieldTable): Promise<string> {
      const stream = ctx.name(prefix);
      await ctx.declare({ queues: [streamQueue(stream, args)] });
      for (const body of bodies) await ctx.publish('', stream, body);
      return stream;
    }

    /** Reads a stream from `offset` until `count` messages came. */
    async function read(stream: string, offset: unknown, count: number, settle?: (delivery: Delivery, index: number) => Settlement): Promise<Delivery[]> {
      const log = new DeliveryLog(settle);
      await ctx.subscribe({ queue: stream, prefetch: 10, concurrency: 1, stream: true, arguments: { 'x-stream-offset': offset } }, log.handler);
      return log.waitFor(count, 10_000);
    }

    it('delivers every message to each reader, in order, with increasing x-stream-offset headers', async () => {
      const stream = await streamWith('stream-readers', ['m0', 'm1', 'm2', 'm3']);
      const first = await read(stream, 'first', 4);
      const second = await read(stream, 'first', 4);
      expect(first.map((d) => d.body.toString())).to.deep.equal(['m0', 'm1', 'm2', 'm3']);
      expect(second.map((d) => d.body.toString())).to.deep.equal(['m0', 'm1', 'm2', 'm3']);
      const offsets = first.map(offsetOf);
      for (const offset of offsets) expect(offset).to.be.a('number');
      expect([...(offsets as number[])].sort((a, b) => a - b)).to.deep.equal(offsets);
      expect(new Set(offsets).size).to.equal(4);
      expect(second.map(offsetOf)).to.deep.equal(offsets);
      expect(first.every((d) => d.redelivered === false)).to.equal(true);
    });

    it('keeps acknowledged messages: a reader that attaches later reads them again', async () => {
      const stream = await streamWith('stream-keeps', ['m0', 'm1']);
      await read(stream, 'first', 2);
      expect((await read(stream, 'first', 2)).map((d) => d.body.toString())).to.deep.equal(['m0', 'm1']);
    });

    it('starts a reader at a numeric offset', async () => {
      const stream = await streamWith('stream-offset', ['m0', 'm1', 'm2', 'm3', 'm4']);
      const offsets = (await read(stream, 'first', 5)).map(offsetOf) as number[];
      const log = new DeliveryLog();
      await ctx.subscribe({ queue: stream, prefetch: 10, concurrency: 1, stream: true, arguments: { 'x-stream-offset': offsets[2] } }, log.handler);
      await log.waitFor(3, 10_000);
      await sleep(100);
      expect(log.bodies).to.deep.equal(['m2', 'm3', 'm4']);
    });

    it('starts a reader at next: only messages appended after it attached', async () => {
      const stream = await streamWith('stream-next', ['old']);
      const log = new DeliveryLog();
      await ctx.subscribe({ queue: stream, prefetch: 10, concurrency: 1, stream: true, arguments: { 'x-stream-offset': 'next' } }, log.handler);
      await ctx.publish('', stream, 'new1');
      await ctx.publish('', stream, 'new2');
      await log.waitFor(2, 10_000);
      await sleep(100);
      expect(log.bodies).to.deep.equal(['new1', 'new2']);
    });

    it('starts a reader at last with the newest message (RabbitMQ: the first of the last chunk)', async () => {
      const stream = await streamWith('stream-last', ['m0', 'm1', 'm2']);
      const log = new DeliveryLog();
      await ctx.subscribe({ queue: stream, prefetch: 10, concurrency: 1, stream: true, arguments: { 'x-stream-offset': 'last' } }, log.handler);
      await eventually(async () => expect(log.bodies.at(-1)).to.equal('m2'), 10_000);
      expect(log.bodies.length).to.be.within(1, 3);
      await ctx.publish('', stream, 'm3');
      await eventually(async () => expect(log.bodies.at(-1)).to.equal('m3'), 10_000);
    });

    it('starts a reader at an interval back from now (x-stream-offset "2s"): messages appended since then', async function () {
      this.timeout(20_000);
      const stream = await streamWith('stream-interval', ['before']);
      await sleep(3200);
      await ctx.publish('', stream, 'after1');
      await ctx.publish('', stream, 'after2');
      const log = new DeliveryLog();
      await ctx.subscribe({ queue: stream, prefetch: 10, concurrency: 1, stream: true, arguments: { 'x-stream-offset': '2s' } }, log.handler);
      await log.waitFor(2, 10_000);
      await sleep(100);
      expect(log.bodies).to.deep.equal(['after1', 'after2']);
    });

    it('never turns a reject or requeue settlement into a nack: the reader reads on, and the connection lives', async () => {
      const stream = await streamWith('stream-settle', ['m0', 'm1', 'm2', 'm3']);
      const settlements: Settlement[] = ['reject', 'requeue', 'ack', 'ack'];
      const deliveries = await read(stream, 'first', 4, (_, index) => settlements[index] ?? 'ack');
      expect(deliveries.map((d) => d.body.toString())).to.deep.equal(['m0', 'm1', 'm2', 'm3']);
      await ctx.publish('', stream, 'm4');
      expect((await read(stream, 'first', 5)).map((d) => d.body.toString())).to.deep.equal(['m0', 'm1', 'm2', 'm3', 'm4']);
    });

    it('refuses a stream consumer without a prefetch', async () => {
      const stream = await streamWith('stream-no-prefetch', []);
      expect(await rejectionOf(ctx.subscribe({ queue: stream, prefetch: 0, concurrency: 1, stream: true, arguments: { 'x-stream-offset': 'first' } }, async () => 'ack'))).to.be.instanceOf(TopologyError);
    });

    it('refuses a malformed x-stream-offset before it reaches the broker, which would close the connection', async () => {
      const stream = await streamWith('stream-bad-offset', ['m0']);
      for (const offset of ['xs', '0s', -1, 1.5]) {
        expect(await rejectionOf(ctx.subscribe({ queue: stream, prefetch: 10, concurrency: 1, stream: true, arguments: { 'x-stream-offset': offset } }, async () => 'ack'))).to.be.instanceOf(InvalidStreamOffsetError);
      }
      expect((await read(stream, 'first', 1)).map((d) => d.body.toString())).to.deep.equal(['m0']);
    });

    it('refuses dead-lettering, TTL and length-limit arguments on a stream', async () => {
      for (const args of [{ 'x-dead-letter-exchange': 'dlx' }, { 'x-message-ttl': 1000 }, { 'x-max-length': 10 }, { 'x-single-active-consumer': true }]) {
        const stream = ctx.name('stream-refused');
        ctx.track({ queues: [{ name: stream }] });
        expect(await rejectionOf(ctx.transport.declare({ queues: [streamQueue(stream, args)] })), JSON.stringify(args)).to.be.instanceOf(TopologyError);
      }
    });

    it('refuses to redeclare a stream with other retention arguments', async () => {
      const stream = ctx.name('stream-redeclare');
      await ctx.declare({ queues: [streamQueue(stream, { 'x-max-age': '7D', 'x-max-length-bytes': 1_000_000 })] });
      await ctx.declare({ queues: [streamQueue(stream, { 'x-max-age': '7D', 'x-max-length-bytes': 1_000_000 })] });
      expect(await rejectionOf(ctx.transport.declare({ queues: [streamQueue(stream, { 'x-max-age': '1D', 'x-max-length-bytes': 1_000_000 })] }))).to.be.instanceOf(TopologyError);
      expect(await rejectionOf(ctx.transport.declare({ queues: [streamQueue(stream, { 'x-max-age': '7D', 'x-max-length-bytes': 5 })] }))).to.be.instanceOf(TopologyError);
    });

    it('removes whole old segments past x-max-length-bytes, keeping the newest messages', async () => {
      const bodies = Array.from({ length: 40 }, (_, i) => `${'x'.repeat(100)}-${i}`);
      const stream = await streamWith('stream-retention', bodies, { 'x-max-length-bytes': 2000, 'x-stream-max-segment-size-bytes': 500 });
      // RabbitMQ applies retention in the background after a segment rolls over.
      const kept = await eventually(async () => {
        const log = new DeliveryLog();
        const subscription = await ctx.subscribe({ queue: stream, prefetch: 100, concurrency: 1, stream: true, arguments: { 'x-stream-offset': 'first' } }, log.handler);
        await eventually(async () => expect(log.bodies.at(-1)).to.equal(bodies.at(-1)), 5_000);
        await subscription.close();
        expect(log.bodies.length).to.be.below(bodies.length);
        return log.bodies;
      }, 10_000);
      console.log(`      (kept ${kept.length} of ${bodies.length} messages)`);
      expect(kept).to.deep.equal(bodies.slice(bodies.length - kept.length));
    });
  });
}
