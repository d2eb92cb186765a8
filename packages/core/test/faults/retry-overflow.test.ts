import 'reflect-metadata';
import { expect } from 'chai';
import { injectable } from 'tsyringe';
import { Consumer, PublishError, Warren, type MessageContext } from '../../src';
import { eventually } from './ledger';
import { describeOnScratchBroker } from './scratch-suite';
import { RecordingLogger, scenarioNames } from './service';

/** What the handler saw, and the gate that keeps its slow messages running. */
const attempts: Array<{ id: string; attempt: number }> = [];
let openGate!: () => void;
let gate = new Promise<void>((resolve) => { openGate = resolve; });

@injectable()
class CrowdedHandlers {
  /** A quorum queue that refuses publishes when one message is ready: a returning retry must wait, not vanish. */
  @Consumer('${EX}', 'job', { queue: '${Q}.jobs', queueType: 'quorum', message: Object, prefetch: 2, concurrency: 2, queueArguments: { 'x-max-length': 1 }, retry: { attempts: 2, delay: 200 } })
  async job(job: { id: string }, ctx: MessageContext): Promise<void> {
    attempts.push({ id: job.id, attempt: ctx.attempt });
    if (job.id === 'flaky' && ctx.attempt === 1) throw new Error('not yet');
    if (job.id.startsWith('slow')) await gate;
  }
}

/**
 * RabbitMQ offers an at-least-once dead letter that a full target refused again only after its
 * dead-letter worker's confirm timeout (3 minutes by default; measured 179.7 s on 3.10 and 4.0).
 * On this scratch node it is lowered to one second, so the test shows the guarantee, not the wait.
 */
describeOnScratchBroker('Under faults: a retry returning to a full quorum queue', {}, (broker) => {
  let service: Warren | undefined;

  afterEach(async () => {
    openGate();
    await service?.close();
    service = undefined;
  });

  it('waits in its retry hop until the queue has room, and is handled on its second attempt: nothing dropped', async function () {
    this.timeout(60_000);
    attempts.length = 0;
    gate = new Promise<void>((resolve) => { openGate = resolve; });
    await broker().ctl('eval', 'application:set_env(rabbit, dead_letter_worker_publisher_confirm_timeout, 1000).');
    const { exchange, env } = scenarioNames();
    const logger = new RecordingLogger();
    service = await Warren.start({ url: broker().url, handlers: [CrowdedHandlers], env, logger, telemetry: false });

    await service.publish(exchange, 'job', { id: 'flaky' });
    await eventually('the first attempt failed', () => logger.said('message failed, retrying later'), 10_000);
    await service.publish(exchange, 'job', { id: 'slow-1' });
    await service.publish(exchange, 'job', { id: 'slow-2' });
    await eventually('both slow jobs hold the two handler slots', () => attempts.filter((a) => a.id.startsWith('slow')).length === 2, 10_000);
    // Fill the queue until it refuses a publish (a quorum queue may take one more than its limit).
    let fillers = 0;
    for (let refused = false; !refused;) {
      if (fillers === 10) throw new Error('the full queue never refused a publish');
      refused = await service.publish(exchange, 'job', { id: `filler-${fillers}` }).then(() => false, (error: unknown) => (expect(error).to.be.instanceOf(PublishError), true));
      if (!refused) fillers++;
    }
    // The retry's 200 ms have passed several times over while the queue was full.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(attempts.filter((a) => a.id === 'flaky').map((a) => a.attempt), 'the retry cannot enter the full queue yet').to.deep.equal([1]);

    const opened = Date.now();
    openGate();
    await eventually('the retry came back once the queue had room', () => attempts.some((a) => a.id === 'flaky' && a.attempt === 2), 30_000);
    console.log(`      (the parked retry was handled ${Date.now() - opened} ms after the slow jobs were let go; ${fillers} filler(s) had filled the queue)`);
    await eventually('every filler was handled', () => attempts.filter((a) => a.id.startsWith('filler')).length === fillers, 10_000);
    expect((await service.transport.inspectQueue(`${env.Q}.jobs.dlq`)).messageCount, 'nothing was dead-lettered').to.equal(0);
  });
});
