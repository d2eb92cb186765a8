import 'reflect-metadata';
import { expect } from 'chai';
import { Consumer, MemoryTransport, type Delivery, type FieldTable, type SettledEvent, type Settlement } from '../src';
import { DEFAULT_CONSUMER_SETTINGS, planConsumer, type ConsumerPlan } from '../src/consumer-plan';
import { getConsumers } from '../src/metadata';
import { FailureRouter } from '../src/outcome';
import { guardRedeliveries, REDELIVERY_HEADER } from '../src/redelivery-guard';
import { SuspectGate } from '../src/suspect-gate';
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
    it('requeues a redelivered message with its count incremented, acks the original, and does not run the handler', async () => {
      const { transport, handle, ran } = await guarded(ClassicJobs);
      expect(await handle(delivery('guard.classic', true))).to.equal('ack');
      expect(ran).to.have.length(0);
      const copy = await transport.get('guard.classic');
      expect(copy!.properties.headers).to.include({ [REDELIVERY_HEADER]: 1, 'x-warren-original-exchange': 'jobs', 'x-warren-original-routing-key': 'job' });
      expect(copy!.properties.messageId).to.equal('m1');
      expect(copy!.redelivered).to.equal(false);
      await copy!.ack();
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
      expect(await transport.get('guard.classic'), 'no copy requeued').to.equal(undefined);
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
    it('runs a message up to the limit from x-delivery-count without requeueing a copy', async () => {
      const { transport, handle, ran } = await guarded(QuorumJobs);
      expect(await handle(delivery('guard.quorum', true, { 'x-delivery-count': 3 }))).to.equal('ack');
      expect(ran).to.have.length(1);
      expect((await transport.inspectQueue('guard.quorum')).messageCount).to.equal(0);
      await transport.close();
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

  describe('SuspectGate', () => {
    const tick = (ms = 5) => new Promise((resolve) => setTimeout(resolve, ms));

    it('runs a suspect alone, after the running deliveries, and the newest suspect first', async () => {
      const gate = new SuspectGate(5, 10_000);
      const log: string[] = [];
      let running = 0;
      let most = 0;
      const task = (name: string, ms: number) => async () => {
        running++;
        most = Math.max(most, running);
        log.push(`start ${name} with ${running - 1} others`);
        await tick(ms);
        running--;
      };
      const all = [gate.run(false, task('a', 30)), gate.run(false, task('b', 30)), gate.run(true, task('s1', 5)), gate.run(true, task('s2', 5))];
      await Promise.all(all);
      expect(log).to.deep.equal(['start a with 0 others', 'start b with 1 others', 'start s2 with 0 others', 'start s1 with 0 others']);
    });

    it('holds new ordinary deliveries once a suspect has waited too long, so it is not starved', async () => {
      const gate = new SuspectGate(5, 50);
      const log: string[] = [];
      let stop = false;
      // A steady stream of overlapping ordinary deliveries: the consumer is never idle on its own.
      const stream = (async () => {
        const pending: Promise<void>[] = [];
        while (!stop) {
          pending.push(gate.run(false, async () => { await tick(20); }));
          await tick(5);
        }
        await Promise.all(pending);
      })();
      await tick(20);
      await gate.run(true, async () => { log.push('suspect ran'); });
      stop = true;
      await stream;
      expect(log).to.deep.equal(['suspect ran']);
    });
  });
});
