import { expect } from 'chai';
import type { Delivery, Settlement } from '../../src/transport';
import { classicQueue, DeliveryLog, eventually, sleep, type ConformanceContext } from './context';

export function acknowledgementSpecs(ctx: ConformanceContext): void {
  async function queueWithMessages(prefix: string, bodies: string[], args?: Record<string, unknown>): Promise<string> {
    const queue = ctx.name(prefix);
    await ctx.declare({ queues: [classicQueue(queue, args)] });
    for (const body of bodies) await ctx.publish('', queue, body);
    return queue;
  }

  describe('acknowledgements', () => {
    it('removes an acknowledged message from the queue', async () => {
      const queue = await queueWithMessages('ack', ['m1', 'm2']);
      const log = new DeliveryLog();
      const subscription = await ctx.subscribe({ queue, prefetch: 10, concurrency: 1 }, log.handler);
      await log.waitFor(2);
      await subscription.close();
      expect((await ctx.transport.inspectQueue(queue)).messageCount).to.equal(0);
      expect(log.deliveries.map((d) => d.redelivered)).to.deep.equal([false, false]);
    });

    it('redelivers a requeued message flagged redelivered, ahead of the messages behind it', async () => {
      const queue = await queueWithMessages('requeue', ['m1', 'm2', 'm3']);
      const log = new DeliveryLog((_, index) => (index === 0 ? 'requeue' : 'ack'));
      await ctx.subscribe({ queue, prefetch: 1, concurrency: 1 }, log.handler);
      const deliveries = await log.waitFor(4);
      expect(deliveries.map((d) => [d.body.toString(), d.redelivered])).to.deep.equal([
        ['m1', false], ['m1', true], ['m2', false], ['m3', false],
      ]);
    });

    it('drops a rejected message when its queue has no dead-letter exchange', async () => {
      const queue = await queueWithMessages('reject-drop', ['m1']);
      const log = new DeliveryLog(() => 'reject');
      const subscription = await ctx.subscribe({ queue, prefetch: 1, concurrency: 1 }, log.handler);
      await log.waitFor(1);
      await sleep(50);
      await subscription.close();
      expect(log.deliveries).to.have.length(1);
      expect((await ctx.transport.inspectQueue(queue)).messageCount).to.equal(0);
    });

    it('holds exactly `prefetch` unacknowledged messages at a consumer whose handlers block', async () => {
      const queue = await queueWithMessages('prefetch', ['m1', 'm2', 'm3', 'm4', 'm5']);
      const gate = ctx.gate();
      const log = new DeliveryLog(async (): Promise<Settlement> => { await gate.opened; return 'ack'; });
      await ctx.subscribe({ queue, prefetch: 2, concurrency: 2 }, log.handler);
      try {
        await log.waitFor(2, 10_000);
        // The broker's count is the proof, not a pause: while both handlers hold their message,
        // exactly the other three are still ready (a third sent to the client would not be).
        await eventually(async () => expect(await ctx.transport.inspectQueue(queue)).to.include({ messageCount: 3, consumerCount: 1 }), 10_000);
        expect(log.bodies).to.deep.equal(['m1', 'm2']);
      } finally {
        gate.open();
      }
      expect((await log.waitFor(5, 10_000)).map((d) => d.body.toString())).to.deep.equal(['m1', 'm2', 'm3', 'm4', 'm5']);
    });

    it('runs at most `concurrency` handlers at once, even with a larger prefetch', async () => {
      const queue = await queueWithMessages('concurrency', ['m1', 'm2', 'm3', 'm4', 'm5', 'm6']);
      let running = 0;
      let mostAtOnce = 0;
      const log = new DeliveryLog(async (): Promise<Settlement> => {
        mostAtOnce = Math.max(mostAtOnce, ++running);
        await sleep(20);
        running--;
        return 'ack';
      });
      await ctx.subscribe({ queue, prefetch: 6, concurrency: 2 }, log.handler);
      await log.waitFor(6);
      expect(mostAtOnce).to.equal(2);
    });

    it('hands messages to competing consumers in turn', async () => {
      const queue = ctx.name('round-robin');
      await ctx.declare({ queues: [classicQueue(queue)] });
      const gate = ctx.gate();
      const hold = async (): Promise<Settlement> => { await gate.opened; return 'ack'; };
      const first = new DeliveryLog(hold);
      const second = new DeliveryLog(hold);
      await ctx.subscribe({ queue, prefetch: 10, concurrency: 10 }, first.handler);
      await ctx.subscribe({ queue, prefetch: 10, concurrency: 10 }, second.handler);
      const bodies = Array.from({ length: 10 }, (_, i) => `m${i}`);
      for (const body of bodies) await ctx.publish('', queue, body);
      await eventually(async () => expect(first.deliveries.length + second.deliveries.length).to.equal(10));
      gate.open();
      expect(first.bodies).to.deep.equal(['m0', 'm2', 'm4', 'm6', 'm8']);
      expect(second.bodies).to.deep.equal(['m1', 'm3', 'm5', 'm7', 'm9']);
    });

    it('returns delivered but unstarted messages to the queue, flagged redelivered, when a subscription closes', async () => {
      const queue = await queueWithMessages('close-requeue', ['m1', 'm2', 'm3']);
      const gate = ctx.gate();
      const log = new DeliveryLog(async (): Promise<Settlement> => { await gate.opened; return 'ack'; });
      const subscription = await ctx.subscribe({ queue, prefetch: 3, concurrency: 1 }, log.handler);
      await log.waitFor(1);
      await eventually(async () => expect((await ctx.transport.inspectQueue(queue)).messageCount).to.equal(0));
      const closed = subscription.close();
      let closedEarly = false;
      void closed.then(() => { closedEarly = true; });
      await sleep(50);
      expect(closedEarly, 'close() waits for the running handler').to.equal(false);
      gate.open();
      await closed;
      expect(log.bodies).to.deep.equal(['m1']);
      const rest = await ctx.drain(queue);
      expect(rest.map((d: Delivery) => [d.body.toString(), d.redelivered])).to.deep.equal([['m2', true], ['m3', true]]);
    });
  });
}
