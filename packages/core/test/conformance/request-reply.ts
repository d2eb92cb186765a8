import { expect } from 'chai';
import { RequestTimeoutError } from '../../src/errors';
import type { Delivery } from '../../src/transport';
import { classicQueue, rejectionOf, type ConformanceContext } from './context';

export function requestReplySpecs(ctx: ConformanceContext): void {
  describe('request / reply (direct reply-to)', () => {
    it('resolves a request with the reply published to its replyTo address', async () => {
      const queue = ctx.name('rpc');
      const requests: Delivery[] = [];
      await ctx.subscribe({ queue, prefetch: 1, concurrency: 1, topology: { queues: [classicQueue(queue)] } }, async (request) => {
        requests.push(request);
        await ctx.transport.publish({
          exchange: '',
          routingKey: request.properties.replyTo!,
          body: Buffer.from(`pong: ${request.body.toString()}`),
          properties: { correlationId: request.properties.correlationId, headers: { status: 'ok' } },
        });
        return 'ack';
      });
      const reply = await ctx.transport.request({ exchange: '', routingKey: queue, body: Buffer.from('ping'), properties: {} }, { timeoutMs: 3000 });
      expect(reply.body.toString()).to.equal('pong: ping');
      expect(reply.properties.headers).to.deep.equal({ status: 'ok' });
      expect(reply.properties.correlationId).to.equal(requests[0]!.properties.correlationId);
      expect(requests[0]!.properties.replyTo).to.match(/^amq\.rabbitmq\.reply-to\./);
    });

    it('fails a request nobody answers with RequestTimeoutError', async () => {
      const queue = ctx.name('rpc-silent');
      await ctx.declare({ queues: [classicQueue(queue)] });
      const error = await rejectionOf(ctx.transport.request({ exchange: '', routingKey: queue, body: Buffer.from('anyone?'), properties: {} }, { timeoutMs: 150 }));
      expect(error).to.be.instanceOf(RequestTimeoutError);
      expect(error).to.include({ code: 'REQUEST_TIMEOUT', routingKey: queue });
    });

    it('drops a reply to an address nobody waits on', async () => {
      await ctx.transport.publish({ exchange: '', routingKey: 'amq.rabbitmq.reply-to.nobody', body: Buffer.from('late'), properties: {} });
    });
  });
}
