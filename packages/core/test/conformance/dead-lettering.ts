import { expect } from 'chai';
import { PublishError } from '../../src/errors';
import type { Delivery, FieldTable, Settlement } from '../../src/transport';
import { classicQueue, DeliveryLog, eventually, rejectionOf, sleep, type ConformanceContext } from './context';

export function deadLetteringSpecs(ctx: ConformanceContext): void {
  /** A work queue whose dead letters go through a fanout exchange to a dead-letter queue. */
  async function withDeadLetterQueue(prefix: string, workArgs: FieldTable = {}): Promise<{ work: string; dlx: string; dlq: string }> {
    const work = ctx.name(prefix);
    const dlx = `${work}.dlx`;
    const dlq = `${work}.dlq`;
    await ctx.declare({
      exchanges: [{ name: dlx, type: 'fanout', durable: false }],
      queues: [classicQueue(dlq), classicQueue(work, { 'x-dead-letter-exchange': dlx, ...workArgs })],
      bindings: [{ exchange: dlx, queue: dlq, routingKey: '' }],
    });
    return { work, dlx, dlq };
  }

  function deaths(delivery: Delivery): FieldTable[] {
    return delivery.properties.headers?.['x-death'] as FieldTable[];
  }

  /** An x-death entry without its `time`, which the test checks separately. */
  function withoutTime(entry: FieldTable): FieldTable {
    const { time, ...rest } = entry;
    expect(time, 'x-death time (seconds since the epoch)').to.be.a('number').within(Date.now() / 1000 - 60, Date.now() / 1000 + 60);
    return rest;
  }

  describe('dead-lettering', () => {
    it('dead-letters a rejected message with an x-death entry', async () => {
      const { work, dlx, dlq } = await withDeadLetterQueue('dl-reject');
      const exchange = ctx.name('dl-reject-source');
      await ctx.declare({ exchanges: [{ name: exchange, type: 'direct', durable: false }], bindings: [{ exchange, queue: work, routingKey: 'order.created' }] });
      const rejecting = new DeliveryLog(() => 'reject');
      await ctx.subscribe({ queue: work, prefetch: 1, concurrency: 1 }, rejecting.handler);
      const dead = new DeliveryLog();
      await ctx.subscribe({ queue: dlq, prefetch: 1, concurrency: 1 }, dead.handler);
      await ctx.publish(exchange, 'order.created', 'refused', { properties: { headers: { tenant: 'acme' } } });

      const [delivery] = await dead.waitFor(1);
      expect(delivery).to.include({ exchange: dlx, routingKey: 'order.created', redelivered: false });
      expect(delivery!.body.toString()).to.equal('refused');
      const headers = delivery!.properties.headers!;
      expect(headers).to.include({ tenant: 'acme', 'x-first-death-reason': 'rejected', 'x-first-death-queue': work, 'x-first-death-exchange': exchange });
      expect(deaths(delivery!).map(withoutTime)).to.deep.equal([
        { count: 1, reason: 'rejected', queue: work, exchange, 'routing-keys': ['order.created'] },
      ]);
    });

    it('dead-letters a message whose handler throws, as a rejection', async () => {
      const { work, dlq } = await withDeadLetterQueue('dl-throw');
      await ctx.subscribe({ queue: work, prefetch: 1, concurrency: 1 }, async () => { throw new Error('handler bug'); });
      await ctx.publish('', work, 'boom');
      const dead = new DeliveryLog();
      await ctx.subscribe({ queue: dlq, prefetch: 1, concurrency: 1 }, dead.handler);
      const [delivery] = await dead.waitFor(1);
      expect(delivery!.properties.headers).to.include({ 'x-first-death-reason': 'rejected', 'x-first-death-queue': work });
    });

    it('replaces the routing key with x-dead-letter-routing-key', async () => {
      const work = ctx.name('dl-key');
      const dlq = `${work}.dlq`;
      await ctx.declare({ queues: [classicQueue(dlq), classicQueue(work, { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq })] });
      await ctx.publish('', work, 'm1');
      const message = await ctx.transport.get(work);
      await message!.nack(false);
      const [delivery] = await ctx.drainAtLeast(dlq, 1);
      expect(delivery).to.include({ exchange: '', routingKey: dlq });
      expect(deaths(delivery!).map(withoutTime)).to.deep.equal([{ count: 1, reason: 'rejected', queue: work, exchange: '', 'routing-keys': [work] }]);
    });

    it('counts repeated deaths in the same queue for the same reason in one x-death entry', async () => {
      const queue = ctx.name('dl-count');
      // Rejected messages come back to the same queue through the default exchange.
      await ctx.declare({ queues: [classicQueue(queue, { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': queue })] });
      const log = new DeliveryLog((_, index) => (index < 2 ? 'reject' : 'ack'));
      await ctx.subscribe({ queue, prefetch: 1, concurrency: 1 }, log.handler);
      await ctx.publish('', queue, 'again');
      const deliveries = await log.waitFor(3);
      expect(deliveries.map((d) => (deaths(d) ?? []).map((e) => e.count))).to.deep.equal([[], [1], [2]]);
      expect(deaths(deliveries[2]!).map(withoutTime)).to.deep.equal([{ count: 2, reason: 'rejected', queue, exchange: '', 'routing-keys': [queue] }]);
    });

    it('lists deaths in different queues or for different reasons most recent first', async () => {
      const first = ctx.name('dl-chain-1');
      const second = `${first}.2`;
      const last = `${first}.3`;
      await ctx.declare({
        queues: [
          classicQueue(last),
          classicQueue(second, { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': last }),
          classicQueue(first, { 'x-message-ttl': 50, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': second }),
        ],
      });
      const rejecting = new DeliveryLog(() => 'reject');
      await ctx.subscribe({ queue: second, prefetch: 1, concurrency: 1 }, rejecting.handler);
      const dead = new DeliveryLog();
      await ctx.subscribe({ queue: last, prefetch: 1, concurrency: 1 }, dead.handler);
      await ctx.publish('', first, 'travels');
      const [delivery] = await dead.waitFor(1);
      expect(deaths(delivery!).map(withoutTime)).to.deep.equal([
        { count: 1, reason: 'rejected', queue: second, exchange: '', 'routing-keys': [second] },
        { count: 1, reason: 'expired', queue: first, exchange: '', 'routing-keys': [first] },
      ]);
      expect(delivery!.properties.headers).to.include({ 'x-first-death-reason': 'expired', 'x-first-death-queue': first, 'x-first-death-exchange': '' });
    });

    it('dead-letters a message that outlives the queue TTL, with no consumer attached', async () => {
      const { work, dlq } = await withDeadLetterQueue('dl-queue-ttl', { 'x-message-ttl': 100 });
      const dead = new DeliveryLog();
      await ctx.subscribe({ queue: dlq, prefetch: 1, concurrency: 1 }, dead.handler);
      const publishedAt = Date.now();
      await ctx.publish('', work, 'stale');
      const [delivery] = await dead.waitFor(1);
      expect(Date.now() - publishedAt).to.be.at.least(80);
      expect(deaths(delivery!).map(withoutTime)).to.deep.equal([{ count: 1, reason: 'expired', queue: work, exchange: '', 'routing-keys': [work] }]);
      expect((await ctx.transport.inspectQueue(work)).messageCount).to.equal(0);
    });

    it('dead-letters a message past its own expiration, recording it as original-expiration', async () => {
      const { work, dlq } = await withDeadLetterQueue('dl-message-ttl');
      const dead = new DeliveryLog();
      await ctx.subscribe({ queue: dlq, prefetch: 1, concurrency: 1 }, dead.handler);
      await ctx.publish('', work, 'short-lived', { properties: { expiration: '100' } });
      const [delivery] = await dead.waitFor(1);
      expect(delivery!.properties.expiration, 'the dead-lettered copy does not expire again').to.equal(undefined);
      expect(deaths(delivery!).map(withoutTime)).to.deep.equal([
        { count: 1, reason: 'expired', queue: work, exchange: '', 'routing-keys': [work], 'original-expiration': '100' },
      ]);
    });

    it('expires a message only once it reaches the head of the queue', async () => {
      const { work, dlq } = await withDeadLetterQueue('dl-ttl-head');
      const dead = new DeliveryLog();
      await ctx.subscribe({ queue: dlq, prefetch: 10, concurrency: 1 }, dead.handler);
      // 'long' lives 1 s: far longer than the check below takes, even on a busy machine.
      await ctx.publish('', work, 'long', { properties: { expiration: '1000' } });
      await ctx.publish('', work, 'short', { properties: { expiration: '20' } });
      await sleep(120);
      expect(dead.bodies, 'the short-lived message waits behind the long-lived one').to.deep.equal([]);
      expect((await ctx.transport.inspectQueue(work)).messageCount).to.equal(2);
      expect((await dead.waitFor(2, 10_000)).map((d) => d.body.toString())).to.deep.equal(['long', 'short']);
    });

    it('drops a message whose dead-letter cycle has no rejection in it', async () => {
      const queue = ctx.name('dl-cycle');
      await ctx.declare({ queues: [classicQueue(queue, { 'x-message-ttl': 50, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': queue })] });
      await ctx.publish('', queue, 'loops');
      await eventually(async () => expect((await ctx.transport.inspectQueue(queue)).messageCount).to.equal(0), 5000);
      // Still gone a few TTLs later: it did not come back around the cycle.
      await sleep(250);
      expect((await ctx.transport.inspectQueue(queue)).messageCount).to.equal(0);
    });

    it('dead-letters the oldest messages with reason maxlen when x-max-length is exceeded (drop-head)', async () => {
      const { work, dlq } = await withDeadLetterQueue('dl-maxlen', { 'x-max-length': 2 });
      for (const body of ['m1', 'm2', 'm3', 'm4']) await ctx.publish('', work, body);
      expect(await ctx.drainBodies(work)).to.deep.equal(['m3', 'm4']);
      const dead = await ctx.drainAtLeast(dlq, 2);
      expect(dead.map((d) => d.body.toString())).to.deep.equal(['m1', 'm2']);
      expect(dead[0]!.properties.headers).to.include({ 'x-first-death-reason': 'maxlen', 'x-first-death-queue': work });
    });

    it('counts only ready messages against x-max-length, not unacknowledged ones', async () => {
      const { work, dlq } = await withDeadLetterQueue('dl-maxlen-unacked', { 'x-max-length': 1 });
      const gate = ctx.gate();
      const log = new DeliveryLog(async (): Promise<Settlement> => { await gate.opened; return 'ack'; });
      await ctx.subscribe({ queue: work, prefetch: 2, concurrency: 2 }, log.handler);
      await ctx.publish('', work, 'm1');
      await ctx.publish('', work, 'm2');
      try {
        await log.waitFor(2, 10_000);
        await ctx.publish('', work, 'm3');
        await ctx.publish('', work, 'm4');
        // RabbitMQ 4.x may dead-letter m3 a few ms after confirming m4: wait for it, bounded.
        expect(await ctx.drainBodiesAtLeast(dlq, 1)).to.deep.equal(['m3']);
      } finally {
        gate.open();
      }
      expect((await log.waitFor(3, 10_000)).map((d) => d.body.toString())).to.deep.equal(['m1', 'm2', 'm4']);
    });

    it('counts body bytes against x-max-length-bytes', async () => {
      const { work, dlq } = await withDeadLetterQueue('dl-maxbytes', { 'x-max-length-bytes': 10 });
      for (const body of ['aaaa', 'bbbb', 'cccc']) await ctx.publish('', work, body);
      expect(await ctx.drainBodies(work)).to.deep.equal(['bbbb', 'cccc']);
      expect(await ctx.drainBodiesAtLeast(dlq, 1)).to.deep.equal(['aaaa']);
    });

    it('refuses a publish to a full queue with x-overflow reject-publish', async () => {
      const { work, dlq } = await withDeadLetterQueue('dl-reject-publish', { 'x-max-length': 1, 'x-overflow': 'reject-publish' });
      await ctx.publish('', work, 'kept');
      const error = await rejectionOf(ctx.publish('', work, 'refused'));
      expect(error).to.be.instanceOf(PublishError);
      expect(await ctx.drainBodies(work)).to.deep.equal(['kept']);
      expect(await ctx.drainBodies(dlq)).to.deep.equal([]);
    });

    it('refuses and dead-letters a publish to a full queue with x-overflow reject-publish-dlx', async () => {
      const { work, dlq } = await withDeadLetterQueue('dl-reject-publish-dlx', { 'x-max-length': 1, 'x-overflow': 'reject-publish-dlx' });
      await ctx.publish('', work, 'kept');
      expect(await rejectionOf(ctx.publish('', work, 'refused'))).to.be.instanceOf(PublishError);
      expect(await ctx.drainBodies(work)).to.deep.equal(['kept']);
      const dead = await ctx.drainAtLeast(dlq, 1);
      expect(dead.map((d) => [d.body.toString(), d.properties.headers?.['x-first-death-reason']])).to.deep.equal([['refused', 'maxlen']]);
    });
  });
}
