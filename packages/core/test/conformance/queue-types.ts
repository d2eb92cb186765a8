import { expect } from 'chai';
import { TopologyError } from '../../src/errors';
import { rejectionOf, type ConformanceContext } from './context';

/** Queue types as Warren declares them: classic stated explicitly, quorum with its dead-lettering settings. */
export function queueTypeSpecs(ctx: ConformanceContext): void {
  describe('queue types', () => {
    it('gives a queue declared without a type the vhost\'s default type, so stating that type later is equivalent', async () => {
      // Classic on a default vhost; quorum where the vhost says so (Amazon MQ 4.x, the managed CI leg).
      const queue = ctx.name('type-default');
      await ctx.declare({ queues: [{ name: queue }] });
      const asClassic = await ctx.transport.declare({ queues: [{ name: queue, arguments: { 'x-queue-type': 'classic' } }] }).then(() => undefined, (error: unknown) => error);
      if (asClassic === undefined) return;
      expect(asClassic).to.be.instanceOf(TopologyError);
      await ctx.declare({ queues: [{ name: queue, arguments: { 'x-queue-type': 'quorum' } }] });
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

  });
}
