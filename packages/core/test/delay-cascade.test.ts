import 'reflect-metadata';
import { expect } from 'chai';
import fc from 'fast-check';
import { runInNewContext } from 'node:vm';
import {
  DELAY_DELIVERY_EXCHANGE, DELAY_LEVELS, DELAY_UNROUTABLE, delayCascadeTopology, delayedAddress, delayHopTopology, delayLevelName,
  MAX_DELAY_MS, readDelayedRoutingKey, retryHop, routeHop, type DelayHop,
} from '../src/delay-cascade';
import { Warren } from '../src/app';
import { Consumer, Publisher, route } from '../src/decorators';
import { ConfigurationError, InvalidDelayError } from '../src/errors';
import { silentLogger } from '../src/logger';
import { publishVia } from '../src/publishing';
import { delayedMessage, requestedDelay } from '../src/scheduling';
import { MemoryTransport } from '../src/transports/memory/transport';
import { topicMatches, topicPattern, topicWords } from '../src/transports/memory/routing';
import type { OutgoingMessage, Topology } from '../src/transport';

/**
 * Follows a message through a topology as RabbitMQ routes it: topic bindings (queue and
 * exchange-to-exchange), a queue's TTL, then its dead-letter exchange and routing key. Returns each
 * queue it waits in, or where it ends: at a destination outside the topology, or unroutable.
 */
function walk(topology: Required<Topology>, exchange: string, routingKey: string): { queues: string[]; waited: number; end: { exchange: string; routingKey: string } | 'unroutable' } {
  const queues: string[] = [];
  let waited = 0;
  for (let steps = 0; steps < 200; steps++) {
    if (!topology.exchanges.some((e) => e.name === exchange)) return { queues, waited, end: { exchange, routingKey } };
    const words = topicWords(routingKey);
    const toQueues = topology.bindings.filter((b) => b.exchange === exchange && topicMatches(topicPattern(b.routingKey), words));
    const toExchanges = topology.exchangeBindings.filter((b) => b.source === exchange && topicMatches(topicPattern(b.routingKey), words));
    expect(toQueues.length + toExchanges.length, `${exchange} routes "${routingKey}" to at most one place`).to.be.at.most(1);
    if (toExchanges[0]) {
      exchange = toExchanges[0].destination;
      continue;
    }
    if (!toQueues[0]) return { queues, waited, end: 'unroutable' };
    const queue = topology.queues.find((q) => q.name === toQueues[0]!.queue)!;
    queues.push(queue.name);
    waited += queue.arguments!['x-message-ttl'] as number;
    exchange = queue.arguments!['x-dead-letter-exchange'] as string;
    routingKey = (queue.arguments!['x-dead-letter-routing-key'] as string | undefined) ?? routingKey;
  }
  throw new Error('the walk did not end');
}

/** A cascade and two hops, as two services would have declared them. */
function world(hops: DelayHop[]): Required<Topology> {
  const topology = delayCascadeTopology('classic');
  for (const hop of hops) {
    const part = delayHopTopology(hop);
    topology.queues.push(...part.queues.filter((q) => !topology.queues.some((known) => known.name === q.name)));
    topology.bindings.push(...part.bindings.filter((b) => b.queue !== DELAY_UNROUTABLE));
  }
  return topology;
}

describe('The delay cascade', () => {
  const orders = routeHop('orders', 'order.created', 'classic');
  const billing = retryHop('billing.charge', 'classic');
  const topology = world([orders, billing]);

  it('has 32 levels, level N a topic exchange and a queue of 2^N ms dead-lettering to level N−1, level 0 to the delivery exchange', () => {
    expect(DELAY_LEVELS).to.equal(32);
    expect(MAX_DELAY_MS).to.equal(4_294_967_295);
    const levels = topology.queues.filter((q) => /\.\d\d$/.test(q.name));
    expect(levels).to.have.length(32);
    expect(topology.queues.find((q) => q.name === delayLevelName('classic', 7))!.arguments).to.deep.equal({ 'x-queue-type': 'classic', 'x-message-ttl': 128, 'x-dead-letter-exchange': delayLevelName('classic', 6) });
    expect(topology.queues.find((q) => q.name === delayLevelName('classic', 0))!.arguments!['x-dead-letter-exchange']).to.equal(DELAY_DELIVERY_EXCHANGE);
    for (const exchange of topology.exchanges.filter((e) => e.name !== DELAY_UNROUTABLE)) expect(exchange.arguments, exchange.name).to.deep.equal({ 'alternate-exchange': DELAY_UNROUTABLE });
  });

  it('dead-letters at-least-once between quorum levels', () => {
    const quorum = delayCascadeTopology('quorum');
    expect(quorum.queues.find((q) => q.name === delayLevelName('quorum', 31))!.arguments).to.deep.equal({
      'x-queue-type': 'quorum', 'x-message-ttl': 2 ** 31, 'x-dead-letter-exchange': delayLevelName('quorum', 30), 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish',
    });
  });

  it('holds any delay from 1 ms to the maximum in one queue per bit set, exactly that long, then its hop delivers it to its destination', () => {
    fc.assert(fc.property(fc.oneof(fc.integer({ min: 1, max: MAX_DELAY_MS }), fc.constantFrom(1, 2, 3, 1000, 2 ** 31, MAX_DELAY_MS)), fc.constantFrom(orders, billing), (delayMs, hop) => {
      const { exchange, routingKey } = delayedAddress(delayMs, hop);
      expect(readDelayedRoutingKey(routingKey)).to.deep.equal({ delayMs, hopId: hop.id });
      const path = walk(topology, exchange, routingKey);
      const bits = Array.from({ length: 32 }, (_, level) => level).filter((level) => Math.floor(delayMs / 2 ** level) % 2 === 1);
      expect(path.queues).to.deep.equal([...bits.reverse().map((level) => delayLevelName('classic', level)), hop.name]);
      expect(path.waited).to.equal(delayMs);
      expect(path.end).to.deep.equal({ exchange: hop.exchange, routingKey: hop.routingKey });
    }), { numRuns: 300 });
  });

  it('never delivers a routing key that is not 32 bits and a declared hop\'s id: it is unroutable (the alternate exchange keeps it)', () => {
    const forged = fc.oneof(
      fc.string({ maxLength: 120 }),
      fc.array(fc.constantFrom('0', '1', '*', '#', 'x', orders.id), { maxLength: 40 }).map((words) => words.join('.')),
      fc.integer({ min: 1, max: MAX_DELAY_MS }).map((d) => `${delayedAddress(d, orders).routingKey}.extra`),
      fc.integer({ min: 1, max: MAX_DELAY_MS }).map((d) => delayedAddress(d, { ...orders, id: 'not-a-hop' }).routingKey),
    );
    fc.assert(fc.property(forged, fc.integer({ min: 0, max: 31 }), (routingKey, level) => {
      const path = walk(topology, delayLevelName('classic', level), routingKey);
      if (path.end !== 'unroutable') {
        // Only a well-formed key reaches a destination, and then only a declared hop's.
        expect(readDelayedRoutingKey(routingKey)?.hopId).to.be.oneOf([orders.id, billing.id]);
      }
    }), { numRuns: 500 });
    expect(walk(topology, DELAY_DELIVERY_EXCHANGE, 'orders.order.created').end).to.equal('unroutable');
  });

  it('names each destination\'s hop apart, readable while it fits in 255 bytes', () => {
    expect(routeHop('a.b', 'c', 'classic').name).to.equal('warren.delay.classic.to.a.b/c');
    expect(routeHop('a', 'b.c', 'classic').name).to.equal('warren.delay.classic.to.a/b.c');
    expect(routeHop('a', 'b.c', 'classic').id).not.to.equal(routeHop('a.b', 'c', 'classic').id);
    expect(routeHop('a', 'b', 'quorum').name).to.equal('warren.delay.quorum.to.a/b');
    const long = routeHop('e'.repeat(200), 'k'.repeat(200), 'classic');
    expect(Buffer.byteLength(long.name)).to.be.at.most(255);
    expect(long.name).to.match(/^warren\.delay\.classic\.to\.[0-9a-f]{64}$/);
    expect(retryHop('billing', 'quorum')).to.include({ name: 'billing.retry', exchange: '', routingKey: 'billing', queueType: 'quorum' });
  });
});

describe('Delayed send options', () => {
  const now = Date.UTC(2030, 0, 1);
  const refused = (options: Parameters<typeof requestedDelay>[0]) => {
    try {
      requestedDelay(options, now);
    } catch (error) {
      expect(error).to.be.instanceOf(InvalidDelayError);
      expect((error as InvalidDelayError).code).to.equal('INVALID_DELAY');
      return (error as Error).message;
    }
    throw new Error(`${JSON.stringify(options)} was accepted`);
  };

  it('takes a whole number of ms from 0 to the maximum, or a Date (a past one is due now)', () => {
    expect(requestedDelay({}, now)).to.equal(undefined);
    expect(requestedDelay({ delay: 0 }, now)).to.equal(0);
    expect(requestedDelay({ delay: MAX_DELAY_MS }, now)).to.equal(MAX_DELAY_MS);
    expect(requestedDelay({ at: new Date(now + 1500) }, now)).to.equal(1500);
    expect(requestedDelay({ at: new Date(now - 60_000) }, now)).to.equal(0);
    expect(requestedDelay({ at: runInNewContext(`new Date(${now + 10})`) as Date }, now), 'a Date from another realm').to.equal(10);
  });

  it('refuses anything else with INVALID_DELAY, saying what was wrong', () => {
    expect(refused({ delay: -1 })).to.contain('from 0 to 4294967295 ms (got -1)');
    expect(refused({ delay: 1.5 })).to.contain('whole number of milliseconds (got 1.5)');
    expect(refused({ delay: Number.NaN })).to.contain('(got NaN)');
    expect(refused({ delay: Number.POSITIVE_INFINITY })).to.contain('(got Infinity)');
    expect(refused({ delay: MAX_DELAY_MS + 1 })).to.contain('(got 4294967296)');
    expect(refused({ delay: '10' as never })).to.contain('(got "10")');
    expect(refused({ at: new Date(Number.NaN) })).to.contain('an invalid Date');
    expect(refused({ at: now as never })).to.contain('valid Date (got 1893456000000)');
    expect(refused({ at: new Date(now + MAX_DELAY_MS + 1) })).to.contain('ms ahead');
    expect(refused({ delay: 5, at: new Date(now) })).to.contain('either delay or at');
  });
});

describe('A delayed message', () => {
  const hop = routeHop('orders', 'order.created', 'classic');
  const message = (extra: Partial<OutgoingMessage['properties']> = {}): OutgoingMessage => ({
    exchange: 'orders', routingKey: 'order.created', body: Buffer.from('{}'), mandatory: false,
    properties: { messageId: 'm-1', correlationId: 'c-1', contentType: 'application/json', deliveryMode: 2, priority: 4, headers: { tenant: 'acme', 'x-death': [{ queue: 'q' }], 'x-first-death-queue': 'q' }, ...extra },
  });

  it('enters the cascade at its highest bit, keeping its properties and headers, without broker-owned headers', () => {
    const delayed = delayedMessage(message(), 1500, hop);
    expect(delayed.exchange).to.equal(delayLevelName('classic', 10));
    expect(readDelayedRoutingKey(delayed.routingKey)).to.deep.equal({ delayMs: 1500, hopId: hop.id });
    expect(delayed.mandatory).to.equal(true);
    expect(delayed.properties).to.deep.include({ messageId: 'm-1', correlationId: 'c-1', contentType: 'application/json', deliveryMode: 2, priority: 4 });
    expect(delayed.properties.headers).to.deep.equal({ tenant: 'acme' });
  });

  it('refuses an expiration, and CC or BCC headers, which cannot survive the cascade', () => {
    expect(() => delayedMessage(message({ expiration: '1000' }), 10, hop)).to.throw(ConfigurationError, /expiration/);
    expect(() => delayedMessage(message({ headers: { CC: ['elsewhere'] } }), 10, hop)).to.throw(ConfigurationError, /CC header/);
    expect(() => delayedMessage(message({ headers: { BCC: ['elsewhere'] } }), 10, hop)).to.throw(ConfigurationError, /BCC header/);
  });
});

describe('MemoryTransport timing for the cascade', () => {
  let transport: MemoryTransport;
  beforeEach(async () => { transport = new MemoryTransport(); await transport.connect(); });
  afterEach(() => transport.close());

  it('waits out a TTL longer than a Node timer can (2^31 ms and more) in steps, without overflowing a timer', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      await transport.declare({ queues: [{ name: 'long', arguments: { 'x-queue-type': 'classic', 'x-message-ttl': 2 ** 32 - 1, 'x-dead-letter-exchange': '' } }] });
      await transport.publish({ exchange: '', routingKey: 'long', body: Buffer.from('x'), properties: {} });
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect((await transport.inspectQueue('long')).messageCount).to.equal(1);
      // An overflowing timer fires after 1 ms: the queue would wake up every millisecond for 49 days.
      expect(warnings).not.to.include('TimeoutOverflowWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('keeps an at-least-once dead letter that reached no queue, and routes it once a queue is bound', async () => {
    const quorum = { 'x-queue-type': 'quorum', 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish' };
    await transport.declare({
      exchanges: [{ name: 'later', type: 'direct' }],
      queues: [{ name: 'source', arguments: { ...quorum, 'x-message-ttl': 0, 'x-dead-letter-exchange': 'later', 'x-dead-letter-routing-key': 'k' } }, { name: 'target' }],
    });
    await transport.publish({ exchange: '', routingKey: 'source', body: Buffer.from('kept'), properties: {} });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await transport.declare({ bindings: [{ exchange: 'later', queue: 'target', routingKey: 'k' }] });
    const deadline = Date.now() + 5000;
    while ((await transport.inspectQueue('target')).messageCount === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await transport.inspectQueue('target')).messageCount).to.equal(1);
  });
});

const outboxArrivals: number[] = [];

class Ticks {
  @Consumer('ticks', 'tick', { queue: 'ticks', message: Object })
  async tick() { outboxArrivals.push(Date.now()); }
}

@Publisher('ticks')
class TickEvents {
  readonly tick = route('tick', Object);
}

describe('publishVia with a delay (a transactional outbox)', () => {
  it('hands over the message as it enters the cascade, with the cascade and hop ready, so a relay sends it delayed', async () => {
    const app = await Warren.start({ transport: new MemoryTransport(), handlers: [Ticks], publishers: [TickEvents], logger: silentLogger, telemetry: false });
    try {
      const stored: OutgoingMessage[] = [];
      await publishVia(app.get(TickEvents).tick, { n: 1 }, { delay: 200 }, async (message) => { stored.push(message); });
      expect(stored).to.have.length(1);
      expect(stored[0]!.exchange).to.match(/^warren\.delay\.classic\.0[67]$/);
      expect(readDelayedRoutingKey(stored[0]!.routingKey)?.hopId).to.equal(routeHop('ticks', 'tick', 'classic').id);
      const relayed = Date.now();
      await app.transport.publish(stored[0]!); // what the relay does, later
      const deadline = Date.now() + 5000;
      while (outboxArrivals.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(outboxArrivals).to.have.length(1);
      expect(outboxArrivals[0]! - relayed, 'the delay counts from when the relay sends it').to.be.at.least(150);
    } finally {
      await app.close();
    }
  });
});
