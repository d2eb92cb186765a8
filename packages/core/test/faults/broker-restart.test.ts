import 'reflect-metadata';
import { expect } from 'chai';
import { eventually, Ledger, publishAll, SOAK } from './ledger';
import { sleep } from './scratch-broker';
import { describeOnScratchBroker, useScratchAdmin } from './scratch-suite';
import { scenarioNames, startService } from './service';

/** Confirm timeout of the services here: outage publishes must fail (typed) rather than wait long. */
const PUBLISH_TIMEOUT_MS = 5_000;

describeOnScratchBroker('Under faults: broker restarts', {}, (broker) => {
  const { admin, apps } = useScratchAdmin(broker);

  /** Runs `outage` `times` times while `total` messages flow; returns each recovery time in ms. */
  async function streamThrough(ledger: Ledger, total: number, times: number, outage: () => Promise<void>): Promise<number[]> {
    const { exchange, queue, env } = scenarioNames();
    const service = await startService(broker().url, ledger, env, { publishTimeoutMs: PUBLISH_TIMEOUT_MS });
    apps.push(service);
    const recoveries: number[] = [];
    const publishing = publishAll(service, ledger, { exchange, routingKey: 'tick', prefix: 'rs', count: total, until: () => recoveries.length === times, retryPauseMs: 250 });
    for (let i = 1; i <= times; i++) {
      await eventually(`a ${i}/${times + 1} share is confirmed`, () => ledger.confirmed.size >= (i * total) / (times + 1), 120_000);
      await outage();
      // From the moment the broker accepts connections again until the consumer is back on it.
      recoveries.push(await eventually('the consumer is back', async () =>
        (await admin().inspectQueue(queue)).consumerCount === 1 && service.health().status === 'up', 30_000));
    }
    await publishing;
    await eventually('every confirmed message is handled', () => ledger.lost().length === 0, 120_000);
    return recoveries;
  }

  it('loses no confirmed message when the broker application stops and starts mid-stream', async function () {
    const total = SOAK ? 100_000 : 10_000;
    const restarts = SOAK ? 5 : 2;
    this.timeout(SOAK ? 1_800_000 : 150_000);
    const ledger = new Ledger(`stop_app/start_app ×${restarts}`);
    const recoveries = await streamThrough(ledger, total, restarts, async () => {
      await broker().ctl('stop_app');
      await sleep(1_000);
      await broker().ctl('start_app');
    });
    ledger.print({ 'recovery ms': recoveries.join('/'), 'slowest publish ms': ledger.slowestPublishMs });
    expect(ledger.lost()).to.deep.equal([]);
    // Publish calls during the outage failed with a typed error, and none hung past its timeout.
    expect(ledger.untypedFailures()).to.deep.equal([]);
    expect(ledger.slowestPublishMs).to.be.at.most(PUBLISH_TIMEOUT_MS + 2_000);
  });

  it('loses no confirmed message when the broker is killed with SIGKILL and restarted', async function () {
    const total = SOAK ? 100_000 : 10_000;
    const kills = SOAK ? 3 : 1;
    this.timeout(SOAK ? 1_800_000 : 150_000);
    const ledger = new Ledger(`kill -9 ×${kills}`);
    const recoveries = await streamThrough(ledger, total, kills, async () => {
      await broker().kill();
      await broker().boot();
    });
    ledger.print({ 'recovery ms': recoveries.join('/'), 'slowest publish ms': ledger.slowestPublishMs });
    expect(ledger.lost()).to.deep.equal([]);
    expect(ledger.untypedFailures()).to.deep.equal([]);
    expect(ledger.slowestPublishMs).to.be.at.most(PUBLISH_TIMEOUT_MS + 2_000);
  });
});
