import { expect } from 'chai';
import type { Settlement } from '../../src/transport';
import { DeliveryLog, eventually, sleep, type ConformanceContext } from './context';

/** Which consumer of a queue gets a message: single active consumer, consumer priorities. */
export function consumerSelectionSpecs(ctx: ConformanceContext): void {
  describe('single active consumer and consumer priority', () => {
    for (const type of ['classic', 'quorum'] as const) {
      it(`gives every message of a single-active-consumer ${type} queue to the consumer attached first, then to the next when it goes`, async () => {
        const queue = ctx.name(`sac-${type}`);
        await ctx.declare({ queues: [{ name: queue, durable: true, arguments: { 'x-queue-type': type, 'x-single-active-consumer': true } }] });
        const active = new DeliveryLog();
        const standby = new DeliveryLog();
        const first = await ctx.subscribe({ queue, prefetch: 10, concurrency: 10 }, active.handler);
        await ctx.subscribe({ queue, prefetch: 10, concurrency: 10 }, standby.handler);
        for (let i = 0; i < 6; i++) await ctx.publish('', queue, `m${i}`);
        await active.waitFor(6, 10_000);
        await first.close();
        for (let i = 6; i < 9; i++) await ctx.publish('', queue, `m${i}`);
        await standby.waitFor(3, 10_000);
        await sleep(50);
        expect(active.bodies).to.deep.equal(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
        expect(standby.bodies).to.deep.equal(['m6', 'm7', 'm8']);
      });
    }

    it('gives messages to the higher-priority consumer while it has room in its prefetch, then to the lower one', async () => {
      const queue = ctx.name('priority');
      await ctx.declare({ queues: [{ name: queue, durable: true, arguments: { 'x-queue-type': 'classic' } }] });
      const gate = ctx.gate();
      const hold = async (): Promise<Settlement> => { await gate.opened; return 'ack'; };
      const low = new DeliveryLog(hold);
      const high = new DeliveryLog(hold);
      await ctx.subscribe({ queue, prefetch: 10, concurrency: 10, arguments: { 'x-priority': 1 } }, low.handler);
      await ctx.subscribe({ queue, prefetch: 3, concurrency: 3, arguments: { 'x-priority': 10 } }, high.handler);
      try {
        for (let i = 0; i < 3; i++) await ctx.publish('', queue, `m${i}`);
        await high.waitFor(3, 10_000);
        for (let i = 3; i < 5; i++) await ctx.publish('', queue, `m${i}`);
        await low.waitFor(2, 10_000);
        await eventually(async () => expect((await ctx.transport.inspectQueue(queue)).messageCount).to.equal(0), 10_000);
        expect(high.bodies).to.deep.equal(['m0', 'm1', 'm2']);
        expect(low.bodies).to.deep.equal(['m3', 'm4']);
      } finally {
        gate.open();
      }
    });
  });
}
