import 'reflect-metadata';
import { expect } from 'chai';
import { container, injectable } from 'tsyringe';
import { Consumer, PublishTimeoutError, Warren } from '../../src';
import { eventually, Ledger, publishAll } from './ledger';
import { sleep } from './scratch-broker';
import { describeOnScratchBroker } from './scratch-suite';
import { RecordingLogger, scenarioNames, Tick } from './service';
import { afterEachCleanup, settleWithin } from '../support/cleanup';

/**
 * Handlers wait at this gate until the alarm is on, so there is a backlog to drain during it however
 * the machine's load shares time between publishing and consuming (on a busy machine the consumer
 * once caught up before the alarm, and nothing was left to handle during it).
 */
let gate = Promise.resolve();
let openGate = (): void => undefined;

/** Takes 10 ms per message, five at a time, once the gate is open. */
@injectable()
class SteadyHandlers {
  constructor(private readonly ledger: Ledger) {}

  @Consumer('${EX}', 'tick', { queue: '${Q}.ticks', prefetch: 10, concurrency: 5 })
  async tick(tick: Tick): Promise<void> {
    await gate;
    await sleep(10);
    this.ledger.recordHandled(tick.id);
  }
}

const PUBLISH_TIMEOUT_MS = 1_500;

describeOnScratchBroker('Under faults: a broker memory alarm', {}, (broker) => {
  let service: Warren | undefined;

  afterEachCleanup('clear the alarm, close the service', async () => {
    openGate();
    await settleWithin('clear the memory alarm', () => broker().ctl('set_vm_memory_high_watermark', '0.4'));
    await service?.close();
  }, 25_000);

  it('fails publishes with a typed timeout while consumers keep draining, and loses nothing once it clears', async function () {
    this.timeout(60_000);
    const ledger = new Ledger('memory alarm');
    const { exchange, env } = scenarioNames();
    const scope = container.createChildContainer();
    scope.registerInstance(Ledger, ledger);
    const logger = new RecordingLogger();
    gate = new Promise((resolve) => { openGate = resolve; });
    service = await Warren.start({ url: broker().url, handlers: [SteadyHandlers], container: scope, env, logger, telemetry: false, publishTimeoutMs: PUBLISH_TIMEOUT_MS });
    await publishAll(service, ledger, { exchange, routingKey: 'tick', prefix: 'before', count: 3_000, inFlight: 64 });

    await broker().ctl('set_vm_memory_high_watermark', '0');
    const handledAtAlarm = ledger.handled.size;
    openGate();
    const blockedPublishes = await Promise.allSettled(Array.from({ length: 5 }, (_, i) =>
      service!.publish(exchange, 'tick', { id: `during-${i}` }, { messageId: `during-${i}` })));
    const handledDuringAlarm = ledger.handled.size - handledAtAlarm;
    // connection.blocked can reach the client a little after the publishes timed out: wait for it.
    await eventually('the block is reported', () => logger.said('the broker blocked publishing'), 5_000);
    for (const outcome of blockedPublishes) {
      expect(outcome.status).to.equal('rejected');
      expect((outcome as PromiseRejectedResult).reason).to.be.instanceOf(PublishTimeoutError);
    }
    // The consuming connection never publishes, so the alarm does not block it.
    expect(handledDuringAlarm, 'messages handled while the alarm was on').to.be.greaterThan(0);

    await broker().ctl('set_vm_memory_high_watermark', '0.4');
    await eventually('publishing is unblocked', () => logger.said('the broker unblocked publishing'), 10_000);
    await publishAll(service, ledger, { exchange, routingKey: 'tick', prefix: 'after', count: 500, inFlight: 64 });
    await eventually('every confirmed message is handled', () => ledger.lost().length === 0, 30_000);
    ledger.print({ 'handled during alarm': handledDuringAlarm, 'timed-out publishes': blockedPublishes.length });
    expect(ledger.lost()).to.deep.equal([]);
  });
});
