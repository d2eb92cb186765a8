import 'reflect-metadata';
import { expect } from 'chai';
import { container, injectable } from 'tsyringe';
import { Consumer, DEAD_LETTER_EXCHANGE, reject, Warren, type FetchedMessage } from '../../src';
import { eventually, Ledger } from './ledger';
import { describeOnScratchBroker, useScratchAdmin } from './scratch-suite';
import { RecordingLogger, scenarioNames, Tick } from './service';

/** Records every tick; `poison-*` ticks are dead-lettered at once. */
@injectable()
class PoisonableTicks {
  constructor(private readonly ledger: Ledger) {}

  @Consumer('${EX}', 'tick', { queue: '${Q}.ticks', prefetch: 20, concurrency: 5 })
  async tick(tick: Tick): Promise<void> {
    if (tick.id.startsWith('poison-')) throw reject('poison');
    this.ledger.recordHandled(tick.id);
  }
}

describeOnScratchBroker('Under faults: exchanges deleted under a running service', {}, (broker) => {
  const { admin, apps } = useScratchAdmin(broker);

  it('declares a deleted publisher exchange and the deleted dead-letter exchange again, with their bindings, on the next publish', async function () {
    this.timeout(150_000);
    const ledger = new Ledger('exchanges deleted');
    const { exchange, queue, env } = scenarioNames();
    const logger = new RecordingLogger();
    const scope = container.createChildContainer();
    scope.registerInstance(Ledger, ledger);
    const app = await Warren.start({ url: broker().url, handlers: [PoisonableTicks], container: scope, env, logger, telemetry: false });
    apps.push(app);
    await app.publish(exchange, 'tick', { id: 'before' }, { mandatory: true });
    ledger.confirmed.add('before');

    // The publisher's exchange goes, and with it the binding to the consumer's queue.
    await admin().deleteExchange(exchange);
    await app.publish(exchange, 'tick', { id: 'after-exchange' }, { mandatory: true });
    ledger.confirmed.add('after-exchange');
    await eventually('the message published after the delete is handled', () => ledger.lost().length === 0);
    expect(logger.said('declared it again with its bindings'), logger.lines.join('\n')).to.equal(true);

    // The dead-letter exchange goes, and with it the binding of the dead-letter queue.
    await admin().deleteExchange(DEAD_LETTER_EXCHANGE);
    await app.publish(exchange, 'tick', { id: 'poison-1' }, { mandatory: true });
    const dlq = `${queue}.dlq`;
    // At least once, not exactly once. The first dead-letter publish finds its exchange missing, and
    // the broker closes the publish channel; when this test's publish of poison-1 is still waiting
    // there for its confirm (a busy broker confirms after it has delivered), the confirm goes with
    // the channel, and Warren sends poison-1 again: it may not have been routed. When it had been,
    // the handler gets it twice and both copies are dead-lettered. What must hold: every dead letter
    // Warren reported (after its confirm) is in the queue, and nothing else is.
    const reported = () => logger.lines.filter((l) => l.startsWith('warn message dead-lettered ')).length;
    const deadLetterMs = await eventually('the poison message is in the dead-letter queue, with every dead letter Warren reported', async () => {
      const dead = reported();
      return dead >= 1 && (await admin().inspectQueue(dlq)).messageCount >= dead;
    }, 90_000).catch(async (error: Error) => {
      const count = await admin().inspectQueue(dlq).then((q) => q.messageCount, (e: Error) => e.message);
      throw new Error(`${error.message}\ndead-letter queue: ${count} messages; dead letters reported: ${reported()}\nservice log:\n${logger.lines.join('\n')}`);
    });
    const dead: FetchedMessage[] = [];
    for (let next = await admin().get(dlq); next; next = await admin().get(dlq)) {
      dead.push(next);
      await next.ack();
    }
    const redeclared = logger.lines.filter((l) => l.includes('declared it again with its bindings'));
    console.log(`      healing | publisher exchange and dead-letter exchange deleted | handled ${ledger.handled.size} | dead-lettered after ${deadLetterMs} ms | dead letters ${dead.length} (reported ${reported()}) | re-declarations logged ${redeclared.length} | dead-letter route repaired by the failure router: ${logger.said('re-declared the dead-letter route')} | health ${app.health().status}`);
    expect(dead.length).to.be.at.least(1);
    for (const copy of dead) {
      expect(JSON.parse(copy.body.toString())).to.deep.equal({ id: 'poison-1' });
      expect(copy.properties.headers).to.include({ 'x-warren-error-code': 'REJECTED', 'x-warren-error-message': 'poison' });
    }
    expect(redeclared.some((l) => l.includes(DEAD_LETTER_EXCHANGE))).to.equal(true);
    expect(logger.said('could not dead-letter')).to.equal(false);
    expect(app.health().status).to.equal('up');
    expect(ledger.handled.size).to.equal(2);
  });
});
