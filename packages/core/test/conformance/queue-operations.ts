import { expect } from 'chai';
import { TopologyError, UnroutableError } from '../../src/errors';
import { classicQueue, DeliveryLog, eventually, rejectionOf, type ConformanceContext } from './context';

export function queueOperationSpecs(ctx: ConformanceContext): void {
  async function queueWithMessages(prefix: string, bodies: string[]): Promise<string> {
    const queue = ctx.name(prefix);
    await ctx.declare({ queues: [classicQueue(queue)] });
    for (const body of bodies) await ctx.publish('', queue, body);
    return queue;
  }

  describe('queue operations', () => {
    it('gets one message at a time with the count of those left behind it', async () => {
      const queue = await queueWithMessages('get', ['m1', 'm2', 'm3']);
      const first = await ctx.transport.get(queue);
      expect(first).to.include({ messageCount: 2, redelivered: false, exchange: '', routingKey: queue, queue });
      expect(first!.body.toString()).to.equal('m1');
      await first!.ack();
      expect((await ctx.transport.inspectQueue(queue)).messageCount).to.equal(2);
    });

    it('puts a fetched message back at the head, flagged redelivered, on nack with requeue', async () => {
      const queue = await queueWithMessages('get-requeue', ['m1', 'm2']);
      await (await ctx.transport.get(queue))!.nack(true);
      const again = await ctx.transport.get(queue);
      expect([again!.body.toString(), again!.redelivered]).to.deep.equal(['m1', true]);
      await again!.ack();
    });

    it('returns undefined from get on an empty queue', async () => {
      const queue = await queueWithMessages('get-empty', []);
      expect(await ctx.transport.get(queue)).to.equal(undefined);
    });

    it('purges ready messages and says how many', async () => {
      const queue = await queueWithMessages('purge', ['m1', 'm2', 'm3']);
      expect(await ctx.transport.purgeQueue(queue)).to.equal(3);
      expect((await ctx.transport.inspectQueue(queue)).messageCount).to.equal(0);
    });

    it('reports ready messages and consumers, and fails for a missing queue', async () => {
      const queue = await queueWithMessages('inspect', ['m1']);
      expect(await ctx.transport.inspectQueue(queue)).to.deep.equal({ queue, messageCount: 1, consumerCount: 0 });
      await ctx.subscribe({ queue, prefetch: 1, concurrency: 1 }, new DeliveryLog().handler);
      await eventually(async () => expect(await ctx.transport.inspectQueue(queue)).to.deep.equal({ queue, messageCount: 0, consumerCount: 1 }));
      expect(await rejectionOf(ctx.transport.inspectQueue(ctx.name('missing')))).to.be.instanceOf(TopologyError);
    });

    it('inspects an exchange passively: resolves when it exists, fails with TopologyError (NOT_FOUND) when not, and creates nothing', async () => {
      const exchange = ctx.name('inspect-exchange');
      await ctx.declare({ exchanges: [{ name: exchange, type: 'topic', durable: false }] });
      await ctx.transport.inspectExchange(exchange);
      await ctx.transport.inspectExchange('amq.topic');
      const missing = ctx.name('missing-exchange');
      const error = await rejectionOf(ctx.transport.inspectExchange(missing));
      expect(error).to.be.instanceOf(TopologyError);
      expect((error as Error).message).to.contain('(NOT_FOUND)');
      expect(await rejectionOf(ctx.transport.inspectExchange(missing)), 'still missing').to.be.instanceOf(TopologyError);
    });

    it('deletes a queue with its bindings', async () => {
      const exchange = ctx.name('delete-bindings');
      const queue = `${exchange}.q`;
      await ctx.declare({ exchanges: [{ name: exchange, type: 'direct', durable: false }], queues: [classicQueue(queue)], bindings: [{ exchange, queue, routingKey: 'k' }] });
      await ctx.transport.deleteQueue(queue);
      expect(await rejectionOf(ctx.transport.inspectQueue(queue))).to.be.instanceOf(TopologyError);
      await ctx.declare({ queues: [classicQueue(queue)] });
      expect(await rejectionOf(ctx.publish(exchange, 'k', 'm', { mandatory: true }))).to.be.instanceOf(UnroutableError);
    });

    it('treats deleting a missing queue or exchange as done', async () => {
      await ctx.transport.deleteQueue(ctx.name('never-declared'));
      await ctx.transport.deleteExchange(ctx.name('never-declared'));
    });

    it('deletes an auto-delete queue when its last consumer goes away', async () => {
      const queue = ctx.name('auto-delete');
      const subscription = await ctx.subscribe({ queue, prefetch: 1, concurrency: 1, topology: { queues: [classicQueue(queue, {}, { autoDelete: true })] } }, new DeliveryLog().handler);
      expect((await ctx.transport.inspectQueue(queue)).consumerCount).to.equal(1);
      await subscription.close();
      await eventually(async () => expect(await rejectionOf(ctx.transport.inspectQueue(queue))).to.be.instanceOf(TopologyError));
    });

    it('re-declares its queue and re-attaches after the queue is deleted, when its topology declares it', async () => {
      const queue = ctx.name('reattach');
      const log = new DeliveryLog();
      const subscription = await ctx.subscribe({ queue, prefetch: 1, concurrency: 1, topology: { queues: [classicQueue(queue)] } }, log.handler);
      await ctx.transport.deleteQueue(queue);
      await eventually(async () => expect((await ctx.transport.inspectQueue(queue)).consumerCount).to.equal(1), 5000);
      expect(subscription.attached).to.equal(true);
      await ctx.publish('', queue, 'after');
      expect((await log.waitFor(1)).map((d) => d.body.toString())).to.deep.equal(['after']);
    });

    it('lets the declaring transport consume from its exclusive queue', async () => {
      const queue = ctx.name('exclusive');
      const log = new DeliveryLog();
      await ctx.subscribe({ queue, prefetch: 1, concurrency: 1, topology: { queues: [classicQueue(queue, {}, { durable: false, exclusive: true })] } }, log.handler);
      await ctx.publish('', queue, 'mine');
      expect((await log.waitFor(1)).map((d) => d.body.toString())).to.deep.equal(['mine']);
    });
  });
}
