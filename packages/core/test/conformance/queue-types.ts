import { expect } from 'chai';
import { PublishError, TopologyError } from '../../src/errors';
import { eventually, rejectionOf, sleep, type ConformanceContext } from './context';

/** Queue types as Warren declares them: classic stated explicitly, quorum with its dead-lettering settings. */
export function queueTypeSpecs(ctx: ConformanceContext): void {
  describe('queue types', () => {
    it('takes a queue declared without a type as classic, so stating x-queue-type classic later is equivalent', async () => {
      const queue = ctx.name('type-classic');
      await ctx.declare({ queues: [{ name: queue }] });
      await ctx.declare({ queues: [{ name: queue, arguments: { 'x-queue-type': 'classic' } }] });
    });

    it('refuses to redeclare a queue as another type', async () => {
      const queue = ctx.name('type-change');
      await ctx.declare({ queues: [{ name: queue, arguments: { 'x-queue-type': 'classic' } }] });
      expect(await rejectionOf(ctx.transport.declare({ queues: [{ name: queue, arguments: { 'x-queue-type': 'quorum' } }] }))).to.be.instanceOf(TopologyError);
    });

    it('refuses to redeclare a quorum queue with another x-delivery-limit or dead-letter strategy', async () => {
      const queue = ctx.name('type-quorum-limit');
      const args = { 'x-queue-type': 'quorum', 'x-delivery-limit': 20, 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish' };
      await ctx.declare({ queues: [{ name: queue, arguments: args }] });
      await ctx.declare({ queues: [{ name: queue, arguments: args }] });
      expect(await rejectionOf(ctx.transport.declare({ queues: [{ name: queue, arguments: { ...args, 'x-delivery-limit': 5 } }] }))).to.be.instanceOf(TopologyError);
      expect(await rejectionOf(ctx.transport.declare({ queues: [{ name: queue, arguments: { ...args, 'x-dead-letter-strategy': 'at-most-once' } }] }))).to.be.instanceOf(TopologyError);
    });

    it('refuses x-delivery-limit on a classic queue', async () => {
      const queue = ctx.name('type-classic-limit');
      ctx.track({ queues: [{ name: queue }] });
      expect(await rejectionOf(ctx.transport.declare({ queues: [{ name: queue, arguments: { 'x-queue-type': 'classic', 'x-delivery-limit': 5 } }] }))).to.be.instanceOf(TopologyError);
    });

    it('refuses a transient or exclusive quorum queue', async () => {
      const queue = ctx.name('type-quorum-transient');
      ctx.track({ queues: [{ name: queue }] });
      expect(await rejectionOf(ctx.transport.declare({ queues: [{ name: queue, durable: false, arguments: { 'x-queue-type': 'quorum' } }] }))).to.be.instanceOf(TopologyError);
      expect(await rejectionOf(ctx.transport.declare({ queues: [{ name: queue, exclusive: true, arguments: { 'x-queue-type': 'quorum' } }] }))).to.be.instanceOf(TopologyError);
    });

    it('dead-letters at-least-once from a quorum queue: a full reject-publish target gets the message once it has room', async () => {
      const target = ctx.name('type-alo-target');
      const source = `${target}.source`;
      await ctx.declare({
        queues: [
          { name: target, arguments: { 'x-queue-type': 'quorum', 'x-max-length': 1, 'x-overflow': 'reject-publish' } },
          { name: source, arguments: { 'x-queue-type': 'quorum', 'x-message-ttl': 50, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': target, 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish' } },
        ],
      });
      // A quorum queue learns it is full after the write that fills it: RabbitMQ may take one more.
      const fillers: string[] = [];
      for (let i = 0; ; i++) {
        if (i === 10) throw new Error('the full reject-publish queue never refused a publish');
        const refused = await ctx.publish('', target, `filler-${i}`).then(() => false, (error: unknown) => (expect(error).to.be.instanceOf(PublishError), true));
        if (refused) break;
        fillers.push(`filler-${i}`);
      }
      await ctx.publish('', source, 'parked');
      await sleep(300);
      expect(await ctx.drainBodies(target), 'the full target took nothing more').to.deep.equal(fillers);
      const started = Date.now();
      const arrived = await eventually(async () => {
        const bodies = await ctx.drainBodies(target);
        if (bodies.length === 0) throw new Error('the parked message has not arrived yet');
        return bodies;
      }, 12_000);
      console.log(`      (at-least-once dead letter arrived ${Date.now() - started} ms after the target had room)`);
      expect(arrived).to.deep.equal(['parked']);
    });
  });
}
