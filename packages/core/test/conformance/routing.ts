import { expect } from 'chai';
import { TopologyError } from '../../src/errors';
import type { ExchangeType, FieldTable } from '../../src/transport';
import { classicQueue, DeliveryLog, rejectionOf, type ConformanceContext } from './context';

export function routingSpecs(ctx: ConformanceContext): void {
  /** Declares an exchange with one queue per binding; returns the queue names in binding order. */
  async function exchangeWithQueues(type: ExchangeType, bindings: Array<{ routingKey: string; arguments?: FieldTable }>): Promise<{ exchange: string; queues: string[] }> {
    const exchange = ctx.name(`route-${type}`);
    const queues = bindings.map((_, i) => `${exchange}.q${i}`);
    await ctx.declare({
      exchanges: [{ name: exchange, type, durable: false }],
      queues: queues.map((name) => (classicQueue(name))),
      bindings: bindings.map((b, i) => ({ exchange, queue: queues[i]!, routingKey: b.routingKey, arguments: b.arguments })),
    });
    return { exchange, queues };
  }

  describe('routing', () => {
    it('routes by exact routing key on a direct exchange', async () => {
      const { exchange, queues } = await exchangeWithQueues('direct', [{ routingKey: 'a' }, { routingKey: 'b' }]);
      for (const key of ['a', 'b', 'c', 'a']) await ctx.publish(exchange, key, key);
      expect(await ctx.drainBodies(queues[0]!)).to.deep.equal(['a', 'a']);
      expect(await ctx.drainBodies(queues[1]!)).to.deep.equal(['b']);
    });

    it('copies a message to every queue bound to a fanout exchange, whatever the routing key', async () => {
      const { exchange, queues } = await exchangeWithQueues('fanout', [{ routingKey: '' }, { routingKey: 'ignored' }]);
      await ctx.publish(exchange, 'anything', 'm1');
      expect(await ctx.drainBodies(queues[0]!)).to.deep.equal(['m1']);
      expect(await ctx.drainBodies(queues[1]!)).to.deep.equal(['m1']);
    });

    it('matches topic patterns word by word, with * for one word and # for zero or more, empty words included', async () => {
      const patterns = ['a.*', 'a.#', '#', '*', '', '*.b', 'a.#.b', '#.b', 'a.*.b', '*.*'];
      const keys = ['a', 'a.b', 'a.x.b', 'a.x.y.b', '', 'b', 'a..b', '.', 'a.', 'x.b'];
      const expected: Record<string, string[]> = {
        'a.*': ['a.b', 'a.'],
        'a.#': ['a', 'a.b', 'a.x.b', 'a.x.y.b', 'a..b', 'a.'],
        '#': keys,
        '*': ['a', 'b'],
        '': [''],
        '*.b': ['a.b', 'x.b'],
        'a.#.b': ['a.b', 'a.x.b', 'a.x.y.b', 'a..b'],
        '#.b': ['a.b', 'a.x.b', 'a.x.y.b', 'b', 'a..b', 'x.b'],
        'a.*.b': ['a.x.b', 'a..b'],
        '*.*': ['a.b', '.', 'a.', 'x.b'],
      };
      const { exchange, queues } = await exchangeWithQueues('topic', patterns.map((routingKey) => ({ routingKey })));
      for (const key of keys) await ctx.publish(exchange, key, key);
      const received: Record<string, string[]> = {};
      for (let i = 0; i < patterns.length; i++) received[patterns[i]!] = await ctx.drainBodies(queues[i]!);
      expect(received).to.deep.equal(expected);
    });

    it('matches headers with x-match all and any, ignoring x- arguments unless the match ends in -with-x', async () => {
      const { exchange, queues } = await exchangeWithQueues('headers', [
        { routingKey: '', arguments: { 'x-match': 'all', format: 'pdf', type: 'report' } },
        { routingKey: '', arguments: { 'x-match': 'any', format: 'pdf', type: 'report' } },
        { routingKey: '', arguments: { format: 'zip' } },
        { routingKey: '', arguments: { 'x-match': 'all', 'x-tenant': 'acme', format: 'pdf' } },
        { routingKey: '', arguments: { 'x-match': 'any-with-x', 'x-tenant': 'acme' } },
        { routingKey: '', arguments: { 'x-match': 'all', version: 2 } },
      ]);
      const messages: Array<[string, FieldTable | undefined]> = [
        ['m1', { format: 'pdf', type: 'report' }],
        ['m2', { format: 'pdf', type: 'log' }],
        ['m3', { format: 'zip' }],
        ['m4', { format: 'pdf', 'x-tenant': 'acme' }],
        ['m5', { version: 2 }],
        ['m6', { version: '2' }],
        ['m7', undefined],
      ];
      for (const [body, headers] of messages) await ctx.publish(exchange, 'ignored', body, { properties: { headers } });
      const received = [];
      for (const queue of queues) received.push(await ctx.drainBodies(queue));
      expect(received).to.deep.equal([['m1'], ['m1', 'm2', 'm4'], ['m3'], ['m1', 'm2', 'm4'], ['m4'], ['m5']]);
    });

    it('matches a header bound without a value (void) by its presence alone', async () => {
      const { exchange, queues } = await exchangeWithQueues('headers', [{ routingKey: '', arguments: { 'x-match': 'all', urgent: null } }]);
      await ctx.publish(exchange, '', 'with', { properties: { headers: { urgent: false } } });
      await ctx.publish(exchange, '', 'without', { properties: { headers: { other: 1 } } });
      expect(await ctx.drainBodies(queues[0]!)).to.deep.equal(['with']);
    });

    it('delivers a message once to a queue that several bindings match', async () => {
      const { exchange, queues } = await exchangeWithQueues('topic', [{ routingKey: 'a.*' }]);
      await ctx.declare({ bindings: [{ exchange, queue: queues[0]!, routingKey: '#' }] });
      await ctx.publish(exchange, 'a.b', 'once');
      expect(await ctx.drainBodies(queues[0]!)).to.deep.equal(['once']);
    });

    it('also routes by the keys in CC and BCC headers, and never delivers the BCC header', async () => {
      const { exchange, queues } = await exchangeWithQueues('direct', [{ routingKey: 'a' }, { routingKey: 'b' }, { routingKey: 'c' }]);
      await ctx.publish(exchange, 'a', 'copied', { properties: { headers: { CC: ['b'], BCC: ['c'] } } });
      const deliveries = [];
      for (const queue of queues) deliveries.push(...await ctx.drain(queue));
      expect(deliveries.map((d) => [d.body.toString(), d.routingKey, d.properties.headers])).to.deep.equal([
        ['copied', 'a', { CC: ['b'] }], ['copied', 'a', { CC: ['b'] }], ['copied', 'a', { CC: ['b'] }],
      ]);
    });

    it('routes through the default exchange to the queue named by the routing key', async () => {
      const queue = ctx.name('default');
      await ctx.declare({ queues: [classicQueue(queue)] });
      await ctx.publish('', queue, 'direct to queue');
      const [delivery] = await ctx.drain(queue);
      expect(delivery).to.include({ exchange: '', routingKey: queue });
      expect(delivery!.body.toString()).to.equal('direct to queue');
    });

    it('refuses a binding to the default exchange', async () => {
      const queue = ctx.name('default-bind');
      await ctx.declare({ queues: [classicQueue(queue)] });
      const error = await rejectionOf(ctx.transport.declare({ bindings: [{ exchange: '', queue, routingKey: queue }] }));
      expect(error).to.be.instanceOf(TopologyError);
    });

    it('routes through exchange-to-exchange bindings, keeping the exchange the message was published to', async () => {
      const source = ctx.name('e2e-source');
      const destination = ctx.name('e2e-destination');
      const queue = ctx.name('e2e-queue');
      await ctx.declare({
        exchanges: [{ name: source, type: 'topic', durable: false }, { name: destination, type: 'fanout', durable: false }],
        queues: [classicQueue(queue)],
        exchangeBindings: [{ source, destination, routingKey: 'audit.#' }],
        bindings: [{ exchange: destination, queue, routingKey: '' }],
      });
      await ctx.publish(source, 'audit.login', 'routed');
      await ctx.publish(source, 'billing.charge', 'not routed');
      const deliveries = await ctx.drain(queue);
      expect(deliveries.map((d) => [d.body.toString(), d.exchange, d.routingKey])).to.deep.equal([['routed', source, 'audit.login']]);
    });

    it('passes a message no binding matches to the alternate exchange', async () => {
      const exchange = ctx.name('ae-main');
      const alternate = ctx.name('ae-alternate');
      const bound = ctx.name('ae-bound');
      const unrouted = ctx.name('ae-unrouted');
      await ctx.declare({
        exchanges: [
          { name: alternate, type: 'fanout', durable: false },
          { name: exchange, type: 'direct', durable: false, arguments: { 'alternate-exchange': alternate } },
        ],
        queues: [classicQueue(bound), classicQueue(unrouted)],
        bindings: [{ exchange, queue: bound, routingKey: 'known' }, { exchange: alternate, queue: unrouted, routingKey: '' }],
      });
      await ctx.publish(exchange, 'known', 'k');
      // Reaching a queue through the alternate exchange counts as routed for a mandatory publish.
      await ctx.publish(exchange, 'unknown', 'u', { mandatory: true });
      expect(await ctx.drainBodies(bound)).to.deep.equal(['k']);
      const [delivery] = await ctx.drain(unrouted);
      expect(delivery).to.include({ exchange, routingKey: 'unknown' });
    });

    it('delivers to a subscription what was routed to its queue', async () => {
      const exchange = ctx.name('subscribe-route');
      const queue = ctx.name('subscribe-route-q');
      const log = new DeliveryLog();
      await ctx.subscribe({
        queue, prefetch: 10, concurrency: 1,
        topology: { exchanges: [{ name: exchange, type: 'direct', durable: false }], queues: [classicQueue(queue)], bindings: [{ exchange, queue, routingKey: 'k' }] },
      }, log.handler);
      await ctx.publish(exchange, 'k', 'hello');
      const [delivery] = await log.waitFor(1);
      expect(delivery).to.include({ exchange, routingKey: 'k', queue, redelivered: false });
      expect(delivery!.body.toString()).to.equal('hello');
    });
  });
}
