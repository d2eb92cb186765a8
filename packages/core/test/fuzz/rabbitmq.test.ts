import 'reflect-metadata';
import fc from 'fast-check';
import { AmqpTransport } from '../../src/transports/amqp/transport';
import { describeOnScratchBroker } from '../faults/scratch-suite';
import { withDeadline } from '../security/harness';
import { DeliveryFuzzer } from './fuzz';
import { REGRESSION_DELIVERIES } from './regressions';

/** A smaller sample on RabbitMQ: forged x-death once crash-looped a retry queue, so this runs on a scratch node. */
const RUNS = Number(process.env.FUZZ_RABBITMQ_RUNS ?? 500);

describeOnScratchBroker('Hostile deliveries through the pipeline (fast-check)', {}, (broker) => {
  let admin: AmqpTransport;
  let fuzzer: DeliveryFuzzer;

  beforeEach(async function () {
    this.timeout(30_000);
    admin = new AmqpTransport({ url: broker().url, connectionName: 'warren-fuzz-admin' });
    await admin.connect(10_000);
    fuzzer = new DeliveryFuzzer({ appTransport: () => new AmqpTransport({ url: broker().url, connectionName: 'warren-fuzz' }), admin });
    await fuzzer.start();
  });

  afterEach(async function () {
    this.timeout(30_000);
    await fuzzer.stop();
    await withDeadline(admin.close(), 10_000).catch(() => undefined);
  });

  it('settles the regression deliveries once each, with reasons, and no publish outside the topology', async function () {
    this.timeout(120_000);
    for (const delivery of REGRESSION_DELIVERIES) {
      await fuzzer.check({ ...delivery, replyTo: delivery.replyTo?.replace('QUEUE', fuzzer.queues[0]!.replace(/\.event$/, '')) });
    }
    await fuzzer.assertSettledOnce();
  });

  it(`settles ${RUNS} generated deliveries once each, in bounded attempts, without reaching a prototype`, async function () {
    this.timeout(300_000);
    const seed = process.env.FUZZ_SEED === undefined ? Date.now() ^ (Math.random() * 2 ** 31) : Number(process.env.FUZZ_SEED);
    const started = performance.now();
    await fc.assert(fuzzer.property(), { numRuns: RUNS, seed, endOnFailure: true });
    await fuzzer.assertSettledOnce();
    console.log(`      fuzz | RabbitMQ | seed ${seed} | ${fuzzer.cases} deliveries reached Warren | ${((performance.now() - started) / 1000).toFixed(1)} s`);
  });
});
