import { expect } from 'chai';
import { ConnectionError, PublishError, RequestTimeoutError, TopologyError } from '../src/errors';
import { MemoryTransport } from '../src/transports/memory/transport';
import type { Delivery, FieldTable, Settlement, TransportEvents } from '../src/transport';
import { DeliveryLog, eventually, rejectionOf, sleep } from './conformance/context';
import { afterEachCleanup } from './support/cleanup';

/** What only the in-memory broker promises; what it shares with RabbitMQ is in test/conformance. */
describe('MemoryTransport', () => {
  let transport: MemoryTransport;
  let events: Required<Pick<TransportEvents, 'onError' | 'onSubscriptionChange' | 'onConnect'>> & { log: unknown[][] };

  beforeEach(() => {
    const log: unknown[][] = [];
    events = {
      log,
      onConnect: () => log.push(['connect']),
      onError: (error) => log.push(['error', error.message]),
      onSubscriptionChange: (queue, attached) => log.push(['subscription', queue, attached]),
    };
    transport = new MemoryTransport({ events });
  });

  afterEachCleanup('close the transport', () => transport.close());

  async function queue(name: string, args?: FieldTable): Promise<string> {
    await transport.declare({ queues: [{ name, arguments: args }] });
    return name;
  }

  describe('the example in its TSDoc', () => {
    it('declares, consumes and publishes as documented', async () => {
      await transport.declare({
        exchanges: [{ name: 'orders', type: 'topic' }],
        queues: [{ name: 'billing', arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'billing.dlq' } }, { name: 'billing.dlq' }],
        bindings: [{ exchange: 'orders', queue: 'billing', routingKey: 'order.*' }],
      });
      const log = new DeliveryLog();
      await transport.subscribe({ queue: 'billing', prefetch: 10, concurrency: 1 }, log.handler);
      await transport.publish({ exchange: 'orders', routingKey: 'order.created', body: Buffer.from('{}'), properties: {} });
      const [delivery] = await log.waitFor(1);
      expect(delivery).to.include({ exchange: 'orders', routingKey: 'order.created', queue: 'billing' });
    });
  });

  describe('copies', () => {
    it('is not affected by changes the publisher makes after publishing', async () => {
      const q = await queue('q');
      const body = Buffer.from('original');
      const headers = { list: ['a'], nested: { value: 1 }, bytes: Buffer.from('xy') };
      await transport.publish({ exchange: '', routingKey: q, body, properties: { headers } });
      body.write('CHANGED!');
      headers.list.push('b');
      headers.nested.value = 2;
      headers.bytes.write('zz');
      const message = await transport.get(q);
      expect(message!.body.toString()).to.equal('original');
      expect(message!.properties.headers).to.deep.equal({ list: ['a'], nested: { value: 1 }, bytes: Buffer.from('xy') });
    });

    it('gives every delivery its own copy, so a consumer’s changes never reach a redelivery', async () => {
      const q = await queue('q');
      await transport.publish({ exchange: '', routingKey: q, body: Buffer.from('original'), properties: { headers: { tags: ['a'] } } });
      const log = new DeliveryLog((delivery, index): Settlement => {
        delivery.body.write('CHANGED!');
        (delivery.properties.headers!.tags as string[]).push('mutated');
        delivery.properties.headers!.added = true;
        return index === 0 ? 'requeue' : 'ack';
      });
      const received: Array<[string, FieldTable | undefined]> = [];
      await transport.subscribe({ queue: q, prefetch: 1, concurrency: 1 }, (delivery) => {
        received.push([delivery.body.toString(), structuredClone(delivery.properties.headers)]);
        return log.handler(delivery);
      });
      await log.waitFor(2);
      expect(received).to.deep.equal([['original', { tags: ['a'] }], ['original', { tags: ['a'] }]]);
    });

    it('gives each queue a fanout copies to its own message', async () => {
      await transport.declare({
        exchanges: [{ name: 'fan', type: 'fanout' }],
        queues: [{ name: 'one' }, { name: 'two' }],
        bindings: [{ exchange: 'fan', queue: 'one', routingKey: '' }, { exchange: 'fan', queue: 'two', routingKey: '' }],
      });
      await transport.publish({ exchange: 'fan', routingKey: '', body: Buffer.from('same'), properties: { headers: { n: { v: 1 } } } });
      const first = await transport.get('one');
      first!.body.write('diff');
      (first!.properties.headers!.n as FieldTable).v = 2;
      const second = await transport.get('two');
      expect(second!.body.toString()).to.equal('same');
      expect(second!.properties.headers).to.deep.equal({ n: { v: 1 } });
    });
  });

  describe('dispatch', () => {
    it('never runs a handler inside publish()', async () => {
      const q = await queue('q');
      const log = new DeliveryLog();
      await transport.subscribe({ queue: q, prefetch: 10, concurrency: 10 }, log.handler);
      const publishing = transport.publish({ exchange: '', routingKey: q, body: Buffer.from('m'), properties: {} });
      expect(log.deliveries).to.have.length(0);
      await publishing;
      await log.waitFor(1);
    });

    it('reports a throwing handler through onError and dead-letters its message', async () => {
      await transport.declare({ queues: [{ name: 'dlq' }, { name: 'work', arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'dlq' } }] });
      await transport.subscribe({ queue: 'work', prefetch: 1, concurrency: 1 }, async () => { throw new Error('handler bug'); });
      await transport.publish({ exchange: '', routingKey: 'work', body: Buffer.from('m'), properties: {} });
      await eventually(async () => expect((await transport.inspectQueue('dlq')).messageCount).to.equal(1));
      expect(events.log).to.deep.include(['error', 'handler bug']);
    });

    it('rejects, and reports, a message whose handler returns something other than a settlement', async () => {
      const q = await queue('q');
      await transport.subscribe({ queue: q, prefetch: 1, concurrency: 1 }, async () => 'done' as unknown as Settlement);
      await transport.publish({ exchange: '', routingKey: q, body: Buffer.from('m'), properties: {} });
      await eventually(async () => expect(events.log.some(([kind]) => kind === 'error')).to.equal(true));
      expect((await transport.inspectQueue(q)).messageCount).to.equal(0);
    });

    it('moves 50,000 messages through one queue in order', async () => {
      const q = await queue('bulk');
      const expected = 50_000;
      let next = 0;
      let outOfOrder = 0;
      const finished = new Promise<void>((resolve) => {
        void transport.subscribe({ queue: q, prefetch: 100, concurrency: 1 }, async (delivery: Delivery) => {
          if (delivery.body.readUInt32BE(0) !== next) outOfOrder++;
          if (++next === expected) resolve();
          return 'ack';
        });
      });
      const body = Buffer.alloc(1024);
      for (let i = 0; i < expected; i++) {
        body.writeUInt32BE(i, 0);
        await transport.publish({ exchange: '', routingKey: q, body, properties: {} });
      }
      await finished;
      expect([next, outOfOrder]).to.deep.equal([expected, 0]);
    });
  });

  describe('subscriptions', () => {
    it('reports a deleted queue through onSubscriptionChange, then re-attaches when its topology declares the queue', async () => {
      const subscription = await transport.subscribe({ queue: 'q', prefetch: 1, concurrency: 1, topology: { queues: [{ name: 'q' }] } }, new DeliveryLog().handler);
      await transport.deleteQueue('q');
      expect(subscription.attached).to.equal(false);
      await eventually(async () => expect(subscription.attached).to.equal(true));
      expect(events.log.filter(([kind]) => kind === 'subscription')).to.deep.equal([
        ['subscription', 'q', true], ['subscription', 'q', false], ['subscription', 'q', true],
      ]);
    });

    it('stays detached after its queue is deleted when its topology does not declare it', async () => {
      const q = await queue('q');
      const subscription = await transport.subscribe({ queue: q, prefetch: 1, concurrency: 1 }, new DeliveryLog().handler);
      await transport.deleteQueue(q);
      await sleep(20);
      expect(subscription.attached).to.equal(false);
      expect(await rejectionOf(transport.inspectQueue(q))).to.be.instanceOf(TopologyError);
    });

    it('refuses a consumer next to an exclusive one, and an exclusive one next to others', async () => {
      await queue('held');
      await queue('shared');
      await transport.subscribe({ queue: 'held', prefetch: 1, concurrency: 1, exclusive: true }, new DeliveryLog().handler);
      expect(await rejectionOf(transport.subscribe({ queue: 'held', prefetch: 1, concurrency: 1 }, new DeliveryLog().handler))).to.be.instanceOf(TopologyError);
      await transport.subscribe({ queue: 'shared', prefetch: 1, concurrency: 1 }, new DeliveryLog().handler);
      expect(await rejectionOf(transport.subscribe({ queue: 'shared', prefetch: 1, concurrency: 1, exclusive: true }, new DeliveryLog().handler))).to.be.instanceOf(TopologyError);
    });
  });

  describe('publishing', () => {
    it('drops what a reject-publish queue refuses when confirms are off', async () => {
      const q = await queue('full', { 'x-max-length': 1, 'x-overflow': 'reject-publish' });
      await transport.publish({ exchange: '', routingKey: q, body: Buffer.from('kept'), properties: {} });
      await transport.publish({ exchange: '', routingKey: q, body: Buffer.from('dropped'), properties: {} }, { confirm: false });
      expect((await transport.inspectQueue(q)).messageCount).to.equal(1);
    });

    it('refuses an expiration that is not a decimal string of milliseconds', async () => {
      const q = await queue('q');
      const error = await rejectionOf(transport.publish({ exchange: '', routingKey: q, body: Buffer.from('m'), properties: { expiration: '1.5s' } }));
      expect(error).to.be.instanceOf(PublishError);
    });

    it('refuses a publish to an internal exchange, which still routes what other exchanges pass it', async () => {
      await transport.declare({
        exchanges: [{ name: 'inner', type: 'fanout', internal: true }, { name: 'outer', type: 'fanout' }],
        queues: [{ name: 'q' }],
        exchangeBindings: [{ source: 'outer', destination: 'inner', routingKey: '' }],
        bindings: [{ exchange: 'inner', queue: 'q', routingKey: '' }],
      });
      expect(await rejectionOf(transport.publish({ exchange: 'inner', routingKey: '', body: Buffer.from('m'), properties: {} }))).to.be.instanceOf(PublishError);
      await transport.publish({ exchange: 'outer', routingKey: '', body: Buffer.from('m'), properties: {} });
      expect((await transport.inspectQueue('q')).messageCount).to.equal(1);
    });

    it('ignores a reply whose correlation id is not the request’s', async () => {
      const q = await queue('rpc');
      await transport.subscribe({ queue: q, prefetch: 1, concurrency: 1 }, async (request) => {
        await transport.publish({ exchange: '', routingKey: request.properties.replyTo!, body: Buffer.from('stray'), properties: { correlationId: 'someone-else' } });
        return 'ack';
      });
      const error = await rejectionOf(transport.request({ exchange: '', routingKey: q, body: Buffer.from('ping'), properties: {} }, { timeoutMs: 100 }));
      expect(error).to.be.instanceOf(RequestTimeoutError);
    });
  });

  describe('at-least-once dead-lettering', () => {
    // RabbitMQ offers the dead letter again after its dead-letter worker's confirm timeout (180 s by
    // default; measured 179.7 s on 3.10 and 4.0): the fault suite checks it there with a shorter timeout.
    it('keeps a quorum queue\'s dead letter until a full reject-publish target has room', async () => {
      const target = await queue('alo-target', { 'x-queue-type': 'quorum', 'x-max-length': 1, 'x-overflow': 'reject-publish' });
      const source = await queue('alo-source', { 'x-queue-type': 'quorum', 'x-message-ttl': 20, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': target, 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish' });
      await transport.publish({ exchange: '', routingKey: target, body: Buffer.from('filler'), properties: {} });
      await transport.publish({ exchange: '', routingKey: source, body: Buffer.from('parked'), properties: {} });
      await sleep(250);
      const filler = (await transport.get(target))!;
      expect(filler.body.toString()).to.equal('filler');
      await filler.ack();
      const parked = await eventually(async () => {
        const message = await transport.get(target);
        if (!message) throw new Error('the parked dead letter has not arrived');
        return message;
      });
      expect(parked.body.toString()).to.equal('parked');
      await parked.ack();
    });

    it('drops it at-most-once from a classic queue', async () => {
      const target = await queue('amo-target', { 'x-max-length': 1, 'x-overflow': 'reject-publish' });
      const source = await queue('amo-source', { 'x-message-ttl': 20, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': target });
      await transport.publish({ exchange: '', routingKey: target, body: Buffer.from('filler'), properties: {} });
      await transport.publish({ exchange: '', routingKey: source, body: Buffer.from('lost'), properties: {} });
      await sleep(100);
      await (await transport.get(target))!.ack();
      await sleep(250);
      expect(await transport.get(target)).to.equal(undefined);
    });
  });

  describe('frame size', () => {
    it('refuses a message whose headers do not fit in one 128 KiB frame, as rabbitmq-client does (CODEC)', async () => {
      const q = await queue('frame');
      await transport.publish({ exchange: '', routingKey: q, body: Buffer.from('m'), properties: { headers: { pad: 'p'.repeat(130_000) } } });
      const error = await rejectionOf(transport.publish({ exchange: '', routingKey: q, body: Buffer.from('m'), properties: { headers: { pad: 'p'.repeat(131_072) } } }));
      expect(error).to.be.instanceOf(PublishError);
      expect(error.message).to.contain('(CODEC)');
    });
  });

  describe('closing', () => {
    it('announces the connection once, and reports it closed afterwards', async () => {
      await transport.connect();
      await transport.connect();
      expect(transport.connected).to.equal(true);
      await transport.close();
      expect(transport.connected).to.equal(false);
      expect(events.log.filter(([kind]) => kind === 'connect')).to.have.length(1);
    });

    it('gives a never-settling handler\'s message back to the queue at the close deadline, and drops its settlement', async () => {
      const q = await queue('q');
      let release!: () => void;
      const dropped: Settlement[] = [];
      await transport.close();
      transport = new MemoryTransport({ events: { ...events, onSettlementDropped: (_queue, settlement) => dropped.push(settlement) } });
      await transport.declare({ queues: [{ name: q }] });
      let started = 0;
      const subscription = await transport.subscribe({ queue: q, prefetch: 1, concurrency: 1 }, async () => {
        started++;
        await new Promise<void>((resolve) => { release = resolve; });
        return 'ack';
      });
      await transport.publish({ exchange: '', routingKey: q, body: Buffer.from('m'), properties: {} });
      await eventually(async () => expect(started).to.equal(1));
      const before = Date.now();
      await subscription.close(100);
      const closeMs = Date.now() - before;
      const back = await transport.get(q);
      expect(back, 'the message is back in the queue').to.not.equal(undefined);
      expect(back!.redelivered).to.equal(true);
      await back!.ack();
      release();
      await eventually(async () => expect(dropped).to.have.length(1));
      expect(dropped).to.deep.equal(['ack']);
      expect(closeMs, `close took ${closeMs} ms`).to.be.at.most(3_000);
    });

    it('refuses every operation after close() with ConnectionError CLOSED', async () => {
      const q = await queue('q');
      await transport.close();
      const calls: Array<[string, () => Promise<unknown>]> = [
        ['connect', () => transport.connect()],
        ['declare', () => transport.declare({ queues: [{ name: 'other' }] })],
        ['publish', () => transport.publish({ exchange: '', routingKey: q, body: Buffer.from('m'), properties: {} })],
        ['request', () => transport.request({ exchange: '', routingKey: q, body: Buffer.from('m'), properties: {} })],
        ['subscribe', () => transport.subscribe({ queue: q, prefetch: 1, concurrency: 1 }, new DeliveryLog().handler)],
        ['get', () => transport.get(q)],
        ['inspectQueue', () => transport.inspectQueue(q)],
        ['purgeQueue', () => transport.purgeQueue(q)],
        ['deleteQueue', () => transport.deleteQueue(q)],
        ['deleteExchange', () => transport.deleteExchange('amq.direct')],
      ];
      for (const [name, call] of calls) {
        const error = await rejectionOf(call());
        expect(error, name).to.be.instanceOf(ConnectionError);
        expect((error as ConnectionError).code, name).to.equal('CLOSED');
      }
    });

    it('fails requests still waiting for a reply', async () => {
      const q = await queue('rpc');
      const pending = transport.request({ exchange: '', routingKey: q, body: Buffer.from('m'), properties: {} }, { timeoutMs: 5000 });
      await transport.close();
      const error = await rejectionOf(pending);
      expect(error).to.be.instanceOf(ConnectionError);
    });

    it('refuses new subscriptions once close() has started, while running handlers finish', async () => {
      const q = await queue('q');
      let release!: () => void;
      const running = new Promise<void>((resolve) => { release = resolve; });
      const log = new DeliveryLog(async (): Promise<Settlement> => { await running; return 'ack'; });
      await transport.subscribe({ queue: q, prefetch: 1, concurrency: 1 }, log.handler);
      await transport.publish({ exchange: '', routingKey: q, body: Buffer.from('m'), properties: {} });
      await log.waitFor(1);
      const closing = transport.close();
      expect(await rejectionOf(transport.subscribe({ queue: q, prefetch: 1, concurrency: 1 }, new DeliveryLog().handler))).to.be.instanceOf(ConnectionError);
      release();
      await closing;
    });
  });
});
