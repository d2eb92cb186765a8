import { expect } from 'chai';
import { PublishError, UnroutableError } from '../../src/errors';
import type { MessageProperties } from '../../src/transport';
import { classicQueue, DeliveryLog, rejectionOf, type ConformanceContext } from './context';

export function publishingSpecs(ctx: ConformanceContext): void {
  describe('publishing', () => {
    it('has taken the message into the queue once a confirmed publish resolves', async () => {
      const queue = ctx.name('confirm');
      await ctx.declare({ queues: [classicQueue(queue)] });
      await ctx.publish('', queue, 'm1', {}, { confirm: true });
      expect((await ctx.transport.inspectQueue(queue)).messageCount).to.equal(1);
    });

    it('rejects a mandatory publish no queue is bound for with UnroutableError', async () => {
      const exchange = ctx.name('mandatory');
      await ctx.declare({ exchanges: [{ name: exchange, type: 'direct', durable: false }] });
      const error = await rejectionOf(ctx.publish(exchange, 'nobody.listens', 'lost', { mandatory: true }));
      expect(error).to.be.instanceOf(UnroutableError);
      expect(error).to.include({ exchange, routingKey: 'nobody.listens', code: 'UNROUTABLE' });
    });

    it('rejects every unroutable mandatory publish while routable ones are confirmed around it', async () => {
      const exchange = ctx.name('mandatory-mixed');
      const queue = ctx.name('mandatory-mixed-q');
      await ctx.declare({ exchanges: [{ name: exchange, type: 'direct', durable: false }], queues: [classicQueue(queue)], bindings: [{ exchange, queue, routingKey: 'bound' }] });
      const outcomes = await Promise.all(Array.from({ length: 100 }, (_, i) => {
        const routingKey = i % 2 === 0 ? 'bound' : 'nobody.listens';
        return ctx.publish(exchange, routingKey, `m${i}`, { mandatory: true }).then(() => 'delivered', (error: unknown) => (error instanceof UnroutableError ? 'unroutable' : String(error)));
      }));
      expect(outcomes.filter((o, i) => i % 2 === 0 && o !== 'delivered'), 'routable publishes that failed').to.deep.equal([]);
      expect(outcomes.filter((o, i) => i % 2 === 1 && o !== 'unroutable'), 'unroutable publishes not reported').to.deep.equal([]);
      expect((await ctx.transport.inspectQueue(queue)).messageCount).to.equal(50);
    });

    it('silently drops an unroutable message that is not mandatory', async () => {
      const exchange = ctx.name('not-mandatory');
      await ctx.declare({ exchanges: [{ name: exchange, type: 'direct', durable: false }] });
      await ctx.publish(exchange, 'nobody.listens', 'dropped', { mandatory: false });
    });

    it('rejects a publish to a missing exchange with PublishError', async () => {
      const error = await rejectionOf(ctx.publish(ctx.name('missing-exchange'), 'k', 'nowhere'));
      expect(error).to.be.instanceOf(PublishError);
    });

    it('delivers every property and header as published', async () => {
      const queue = ctx.name('properties');
      await ctx.declare({ queues: [classicQueue(queue)] });
      const properties: MessageProperties = {
        contentType: 'application/json',
        contentEncoding: 'identity',
        deliveryMode: 1,
        priority: 3,
        correlationId: 'corr-1',
        replyTo: 'replies',
        expiration: '60000',
        messageId: 'msg-1',
        timestamp: 1_700_000_000,
        type: 'order.created',
        appId: 'conformance',
        headers: {
          text: 'héllo',
          small: 7,
          negative: -40_000,
          large: 5_000_000_000,
          fraction: 1.5,
          yes: true,
          no: false,
          nothing: null,
          list: ['a', 1, true],
          nested: { level: { deeper: 'x' } },
        },
      };
      const body = Buffer.from(JSON.stringify({ orderId: 'o-1' }));
      await ctx.transport.publish({ exchange: '', routingKey: queue, body, properties });
      const [delivery] = await ctx.drain(queue);
      expect(delivery!.body.equals(body)).to.equal(true);
      expect(delivery!.properties).to.deep.equal(properties);
    });

    it('keeps the order of 1000 messages for a single consumer', async () => {
      const queue = ctx.name('ordering');
      await ctx.declare({ queues: [classicQueue(queue)] });
      const log = new DeliveryLog();
      await ctx.subscribe({ queue, prefetch: 50, concurrency: 1 }, log.handler);
      const bodies = Array.from({ length: 1000 }, (_, i) => String(i));
      await Promise.all(bodies.map((body) => ctx.publish('', queue, body)));
      await log.waitFor(1000, 10_000);
      expect(log.bodies).to.deep.equal(bodies);
    });
  });
}
