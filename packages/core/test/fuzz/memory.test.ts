import 'reflect-metadata';
import fc from 'fast-check';
import { MemoryTransport } from '../../src/transports/memory/transport';
import { withDeadline } from '../security/harness';
import { DeliveryFuzzer } from './fuzz';
import { REGRESSION_DELIVERIES, REGRESSION_SEEDS } from './regressions';

/** CI runs 10,000 cases (FUZZ_RUNS overrides; FUZZ_SEED replays a run). */
const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);

describe('Hostile deliveries through the pipeline (in-memory broker, fast-check)', function () {
  this.timeout(180_000);
  let broker: MemoryTransport;
  let fuzzer: DeliveryFuzzer;

  beforeEach(async () => {
    broker = new MemoryTransport();
    fuzzer = new DeliveryFuzzer({ appTransport: () => broker, admin: broker });
    await fuzzer.start();
  });

  afterEach(async () => {
    await fuzzer.stop();
    await withDeadline(broker.close(), 10_000).catch(() => undefined);
  });

  it('settles the regression deliveries once each, with reasons, and no publish outside the topology', async () => {
    for (const delivery of REGRESSION_DELIVERIES) {
      await fuzzer.check({ ...delivery, replyTo: delivery.replyTo?.replace('QUEUE', fuzzer.queues[0]!.replace(/\.event$/, '')) });
    }
    await fuzzer.assertSettledOnce();
  });

  it(`settles ${RUNS} generated deliveries once each, in bounded attempts, without reaching a prototype`, async () => {
    const seed = process.env.FUZZ_SEED === undefined ? Date.now() ^ (Math.random() * 2 ** 31) : Number(process.env.FUZZ_SEED);
    const started = performance.now();
    await fc.assert(fuzzer.property(), { numRuns: RUNS, seed, endOnFailure: true });
    await fuzzer.assertSettledOnce();
    console.log(`      fuzz | seed ${seed} | ${fuzzer.cases} deliveries reached Warren | ${((performance.now() - started) / 1000).toFixed(1)} s`);
  });

  for (const { seed, path, found } of REGRESSION_SEEDS) {
    it(`replays seed ${seed} path ${path}: ${found}`, async () => {
      await fc.assert(fuzzer.property(), { seed, path, endOnFailure: true });
      await fuzzer.assertSettledOnce();
    });
  }
});
