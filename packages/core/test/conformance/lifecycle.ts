import { expect } from 'chai';
import { ConnectionError } from '../../src/errors';
import type { Settlement } from '../../src/transport';
import { classicQueue, DeliveryLog, rejectionOf, sleep, type ConformanceContext } from './context';

export function lifecycleSpecs(ctx: ConformanceContext): void {
  describe('closing', () => {
    it('waits for running handlers, which may still publish and settle', async () => {
      const transport = await ctx.newTransport();
      const queue = ctx.name('close-drain');
      const replies = `${queue}.out`;
      await ctx.declare({ queues: [classicQueue(queue), classicQueue(replies)] }, transport);
      const gate = ctx.gate();
      let publishedFromHandler: unknown = 'not attempted';
      const log = new DeliveryLog(async (): Promise<Settlement> => {
        await gate.opened;
        publishedFromHandler = await transport.publish({ exchange: '', routingKey: replies, body: Buffer.from('done'), properties: {} }).then(() => 'published', (error) => error);
        return 'ack';
      });
      await transport.subscribe({ queue, prefetch: 1, concurrency: 1 }, log.handler);
      await transport.publish({ exchange: '', routingKey: queue, body: Buffer.from('work'), properties: {} });
      await log.waitFor(1);
      let closed = false;
      const closing = transport.close().then(() => { closed = true; });
      await sleep(50);
      expect(closed, 'close() resolved while a handler was still running').to.equal(false);
      gate.open();
      await closing;
      expect(publishedFromHandler).to.equal('published');
    });

    it('refuses every call after close() with ConnectionError CLOSED', async () => {
      const transport = await ctx.newTransport();
      await transport.close();
      expect(transport.connected).to.equal(false);
      const error = await rejectionOf(transport.publish({ exchange: '', routingKey: 'any', body: Buffer.from('x'), properties: {} }));
      expect(error).to.be.instanceOf(ConnectionError);
      expect(error).to.include({ code: 'CLOSED' });
      expect(await rejectionOf(transport.declare({ queues: [{ name: ctx.name('after-close') }] }))).to.be.instanceOf(ConnectionError);
    });
  });
}
