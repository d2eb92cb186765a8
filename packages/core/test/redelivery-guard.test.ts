import 'reflect-metadata';
import { expect } from 'chai';
import { Consumer, MemoryTransport, type Delivery, type FieldTable, type SettledEvent, type Settlement } from '../src';
import { DEFAULT_CONSUMER_SETTINGS, planConsumer, type ConsumerPlan } from '../src/consumer-plan';
import { getConsumers } from '../src/metadata';
import { FailureRouter } from '../src/outcome';
import { guardRedeliveries, REDELIVERY_HEADER } from '../src/redelivery-guard';
import { RecordingLogger } from './faults/service';

class ClassicJobs {
  @Consumer('jobs', 'job', { queue: 'guard.classic', redeliveryLimit: 3, message: Object })
  async run(_job: unknown) {}
}

class QuorumJobs {
  @Consumer('jobs', 'job', { queue: 'guard.quorum', redeliveryLimit: 3, queueType: 'quorum', message: Object })
  async run(_job: unknown) {}
}

/** A consumer plan, its queues declared on a fresh in-memory broker, and the guarded handler. */
async function guarded(type: Function): Promise<{ transport: MemoryTransport; plan: ConsumerPlan; handle(d: Delivery): Promise<Settlement>; ran: Delivery[]; events: SettledEvent[] }> {
  const transport = new MemoryTransport();
  await transport.connect();
  const plan = planConsumer(getConsumers(type as never)[0]!, DEFAULT_CONSUMER_SETTINGS, {});
  await transport.declare(plan.topology);
  const ran: Delivery[] = [];
  const events: SettledEvent[] = [];
  const logger = new RecordingLogger();
  const handle = guardRedeliveries(plan, { transport, failures: new FailureRouter(transport, logger), logger, onSettled: (e) => events.push(e) }, async (d) => { ran.push(d); return 'ack'; });
  return { transport, plan, handle, ran, events };
}

function delivery(queue: string, redelivered: boolean, headers?: FieldTable): Delivery {
  return { body: Buffer.from('{"n":1}'), properties: { contentType: 'application/json', messageId: 'm1', headers }, exchange: 'jobs', routingKey: 'job', queue, redelivered };
}

describe('Redelivery guard', () => {
  describe('on a classic queue (Warren counts)', () => {
    it('moves a redelivered message to the redelivered queue with its count, acks the original, and does not run the handler', async () => {
      const { transport, handle, ran } = await guarded(ClassicJobs);
      expect(await handle(delivery('guard.classic', true))).to.equal('ack');
      expect(ran).to.have.length(0);
      const copy = await transport.get('guard.classic.redelivered');
      expect(copy!.properties.headers).to.include({ [REDELIVERY_HEADER]: 1, 'x-warren-original-exchange': 'jobs', 'x-warren-original-routing-key': 'job' });
      expect(copy!.properties.messageId).to.equal('m1');
      expect(copy!.redelivered).to.equal(false);
      await copy!.ack();
      await transport.close();
    });

    it('records the origin the broker delivered, not an origin header from the publisher', async () => {
      const { transport, handle } = await guarded(ClassicJobs);
      await handle(delivery('guard.classic', true, { 'x-warren-original-exchange': 'admin.delete-everything', 'x-warren-original-routing-key': 'all' }));
      const copy = await transport.get('guard.classic.redelivered');
      expect(copy!.properties.headers).to.include({ 'x-warren-original-exchange': 'jobs', 'x-warren-original-routing-key': 'job' });
      await transport.close();
    });

    it('runs a counted message that is not redelivered, and a fresh one', async () => {
      const { transport, handle, ran } = await guarded(ClassicJobs);
      expect(await handle(delivery('guard.classic', false, { [REDELIVERY_HEADER]: 3 }))).to.equal('ack');
      expect(await handle(delivery('guard.classic', false))).to.equal('ack');
      expect(ran).to.have.length(2);
      await transport.close();
    });

    it('dead-letters with REDELIVERY_LIMIT and reason headers once the count would pass the limit', async () => {
      const { transport, handle, ran, events } = await guarded(ClassicJobs);
      expect(await handle(delivery('guard.classic', true, { [REDELIVERY_HEADER]: 3, 'x-death': ['junk'] }))).to.equal('ack');
      expect(ran).to.have.length(0);
      const dead = await transport.get('guard.classic.dlq');
      expect(dead!.properties.headers).to.include({ 'x-warren-error-code': 'REDELIVERY_LIMIT', 'x-warren-consumer': 'ClassicJobs.run', 'x-warren-original-queue': 'guard.classic' });
      expect(String(dead!.properties.headers!['x-warren-error-message'])).to.contain('delivered 5 times');
      expect(events.map((e) => [e.outcome, e.error?.code])).to.deep.equal([['dead-lettered', 'REDELIVERY_LIMIT']]);
      expect(await transport.get('guard.classic.redelivered'), 'no copy requeued').to.equal(undefined);
      await dead!.ack();
      await transport.close();
    });

    it('believes a forged count only upwards: a huge count dead-letters at once, never loops', async () => {
      const { transport, handle, ran } = await guarded(ClassicJobs);
      await handle(delivery('guard.classic', false, { [REDELIVERY_HEADER]: 1e9 }));
      await handle(delivery('guard.classic', false, { [REDELIVERY_HEADER]: -7 }));
      await handle(delivery('guard.classic', false, { [REDELIVERY_HEADER]: 'many' }));
      expect(ran, 'only the malformed counts ran').to.have.length(2);
      expect((await transport.inspectQueue('guard.classic.dlq')).messageCount).to.equal(1);
      await transport.close();
    });
  });

  describe('on a quorum queue (the broker counts)', () => {
    it('counts with x-delivery-count: moves a message up to the limit to the redelivered queue, adding the broker\'s count to its own', async () => {
      const { transport, handle, ran } = await guarded(QuorumJobs);
      expect(await handle(delivery('guard.quorum', true, { 'x-delivery-count': 2, [REDELIVERY_HEADER]: 1 }))).to.equal('ack');
      expect(ran).to.have.length(0);
      const copy = await transport.get('guard.quorum.redelivered');
      expect(copy!.properties.headers).to.include({ [REDELIVERY_HEADER]: 3 });
      expect(copy!.properties.headers).not.to.have.property('x-delivery-count');
      await transport.close();
    });

    it('declares the redelivered queue as a quorum queue with the consumer\'s dead-letter route and quorum settings', async () => {
      const { plan } = await guarded(QuorumJobs);
      const spec = plan.topology.queues!.find((q) => q.name === 'guard.quorum.redelivered')!;
      expect(spec.arguments).to.deep.equal({
        'x-queue-type': 'quorum', 'x-dead-letter-exchange': 'warren.dead-letter', 'x-dead-letter-routing-key': 'guard.quorum',
        'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish', 'x-delivery-limit': 20,
      });
    });

    it('dead-letters with REDELIVERY_LIMIT when x-delivery-count passes the limit', async () => {
      const { transport, handle, ran } = await guarded(QuorumJobs);
      await handle(delivery('guard.quorum', true, { 'x-delivery-count': 4 }));
      expect(ran).to.have.length(0);
      const dead = await transport.get('guard.quorum.dlq');
      expect(dead!.properties.headers).to.include({ 'x-warren-error-code': 'REDELIVERY_LIMIT' });
      await transport.close();
    });
  });
});
