import { expect } from 'chai';
import { PublishError, TopologyError } from '../../src/errors';
import type { Topology } from '../../src/transport';
import { classicQueue, rejectionOf, type ConformanceContext } from './context';

export function topologySpecs(ctx: ConformanceContext): void {
  describe('declarations', () => {
    it('accepts the same declaration twice', async () => {
      const exchange = ctx.name('idempotent');
      const topology: Topology = {
        exchanges: [{ name: exchange, type: 'topic', durable: false }],
        queues: [classicQueue(`${exchange}.q`, { 'x-message-ttl': 1000 })],
        bindings: [{ exchange, queue: `${exchange}.q`, routingKey: 'a.#' }],
      };
      await ctx.declare(topology);
      await ctx.declare(topology);
    });

    it('refuses to redeclare a queue with another x-message-ttl', async () => {
      const queue = ctx.name('redeclare-ttl');
      await ctx.declare({ queues: [classicQueue(queue, { 'x-message-ttl': 100 })] });
      const error = await rejectionOf(ctx.transport.declare({ queues: [classicQueue(queue, { 'x-message-ttl': 200 })] }));
      expect(error).to.be.instanceOf(TopologyError);
    });

    it('refuses to redeclare a queue that had no dead-letter exchange with one', async () => {
      const queue = ctx.name('redeclare-dlx');
      await ctx.declare({ queues: [classicQueue(queue)] });
      const error = await rejectionOf(ctx.transport.declare({ queues: [classicQueue(queue, { 'x-dead-letter-exchange': 'dlx' })] }));
      expect(error).to.be.instanceOf(TopologyError);
    });

    it('accepts a redeclaration that differs only in arguments RabbitMQ does not compare', async () => {
      const queue = ctx.name('redeclare-custom');
      await ctx.declare({ queues: [classicQueue(queue, { 'x-custom': 1 })] });
      await ctx.declare({ queues: [classicQueue(queue, { 'x-custom': 2 })] });
    });

    it('refuses to redeclare an exchange with another alternate exchange', async () => {
      const exchange = ctx.name('redeclare-ae');
      await ctx.declare({ exchanges: [{ name: exchange, type: 'direct', durable: false, arguments: { 'alternate-exchange': 'one' } }] });
      const error = await rejectionOf(ctx.transport.declare({ exchanges: [{ name: exchange, type: 'direct', durable: false, arguments: { 'alternate-exchange': 'two' } }] }));
      expect(error).to.be.instanceOf(TopologyError);
    });

    it('refuses to redeclare a queue with another durability', async () => {
      const queue = ctx.name('redeclare-durable');
      await ctx.declare({ queues: [classicQueue(queue)] });
      // Durable first: a transient non-exclusive declaration of a new queue may be refused (RabbitMQ 4.x).
      expect(await rejectionOf(ctx.transport.declare({ queues: [classicQueue(queue, {}, { durable: false })] }))).to.be.instanceOf(TopologyError);
    });

    it('refuses to redeclare an exchange with another type', async () => {
      const exchange = ctx.name('redeclare-type');
      await ctx.declare({ exchanges: [{ name: exchange, type: 'direct', durable: false }] });
      expect(await rejectionOf(ctx.transport.declare({ exchanges: [{ name: exchange, type: 'topic', durable: false }] }))).to.be.instanceOf(TopologyError);
    });

    it('refuses a binding to a missing queue or from a missing exchange', async () => {
      const exchange = ctx.name('bind-missing');
      const queue = `${exchange}.q`;
      await ctx.declare({ exchanges: [{ name: exchange, type: 'direct', durable: false }] });
      expect(await rejectionOf(ctx.transport.declare({ bindings: [{ exchange, queue, routingKey: 'k' }] }))).to.be.instanceOf(TopologyError);
      await ctx.declare({ queues: [classicQueue(queue)] });
      expect(await rejectionOf(ctx.transport.declare({ bindings: [{ exchange: `${exchange}.missing`, queue, routingKey: 'k' }] }))).to.be.instanceOf(TopologyError);
    });

    it('deletes an auto-delete exchange when its last binding goes', async () => {
      const exchange = ctx.name('auto-delete-exchange');
      const queue = `${exchange}.q`;
      await ctx.declare({ exchanges: [{ name: exchange, type: 'fanout', durable: false, autoDelete: true }], queues: [classicQueue(queue)], bindings: [{ exchange, queue, routingKey: '' }] });
      await ctx.publish(exchange, '', 'while bound');
      await ctx.transport.deleteQueue(queue);
      expect(await rejectionOf(ctx.publish(exchange, '', 'after'))).to.be.instanceOf(PublishError);
    });

    it('refuses queue arguments RabbitMQ does not accept', async () => {
      const invalid = [
        { 'x-overflow': 'drop-tail' },
        { 'x-message-ttl': -1 },
        { 'x-message-ttl': '100' },
        { 'x-max-length': 1.5 },
        { 'x-dead-letter-routing-key': 'without-an-exchange' },
      ];
      for (const args of invalid) {
        const queue = ctx.name('invalid-args');
        ctx.track({ queues: [{ name: queue }] });
        const error = await rejectionOf(ctx.transport.declare({ queues: [classicQueue(queue, args)] }));
        expect(error, JSON.stringify(args)).to.be.instanceOf(TopologyError);
      }
    });

    it('reserves the amq. prefix and the predeclared exchanges', async () => {
      const name = `amq.${ctx.name('reserved')}`;
      ctx.track({ queues: [{ name }], exchanges: [{ name, type: 'direct' }] });
      expect(await rejectionOf(ctx.transport.declare({ queues: [classicQueue(name)] }))).to.be.instanceOf(TopologyError);
      expect(await rejectionOf(ctx.transport.declare({ exchanges: [{ name, type: 'direct', durable: false }] }))).to.be.instanceOf(TopologyError);
      expect(await rejectionOf(ctx.transport.deleteExchange('amq.direct'))).to.be.instanceOf(TopologyError);
      await ctx.transport.declare({ exchanges: [{ name: 'amq.direct', type: 'direct' }] });
    });

    it('has the amq.* exchanges predeclared', async () => {
      const queue = ctx.name('amq-topic');
      await ctx.declare({ queues: [classicQueue(queue)], bindings: [{ exchange: 'amq.topic', queue, routingKey: `${queue}.#` }] });
      await ctx.publish('amq.topic', `${queue}.x`, 'via amq.topic');
      expect(await ctx.drainBodies(queue)).to.deep.equal(['via amq.topic']);
    });
  });
}
