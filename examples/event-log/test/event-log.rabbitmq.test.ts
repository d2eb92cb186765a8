import 'reflect-metadata';
import { expect } from 'chai';
import { AmqpTransport } from '@warren/core';
import { eventually, publishHistory, startService, type LedgerService } from '../src/ledger';
import { AMQP_URL, describeWithBroker, uniqueName } from './support/broker';
import { afterCleanup } from './support/cleanup';

describeWithBroker('event-log', function () {
  this.timeout(30_000);
  const env = { LEDGER_EXCHANGE: uniqueName('ledger') };
  const log = `${env.LEDGER_EXCHANGE}.log`;
  const services: LedgerService[] = [];

  afterCleanup('close the services, delete the stream', async () => {
    for (const service of services.splice(0).reverse()) await service.app.close();
    const admin = new AmqpTransport({ url: AMQP_URL });
    await admin.connect();
    try {
      for (const queue of [log, `${log}.dlq`]) await admin.deleteQueue(queue).catch(() => undefined);
      await admin.deleteExchange(env.LEDGER_EXCHANGE).catch(() => undefined);
    } finally {
      await admin.close();
    }
  });

  it('projects, dead-letters, lets a later second reader read everything, and rebuilds by replay, as in memory', async () => {
    const balances = await startService('balances', { url: AMQP_URL, env });
    services.push(balances);
    await publishHistory(balances);
    await eventually(() => balances.settled.length === 4);
    expect(Object.fromEntries(balances.balances.balances)).to.deep.equal({ alice: 7_500, bob: 5_000 });
    expect(balances.settled.map((s) => s.outcome)).to.deep.equal(['handled', 'handled', 'handled', 'dead-lettered']);

    const statements = await startService('statements', { url: AMQP_URL, env });
    services.push(statements);
    await eventually(() => statements.settled.length === 4);
    expect([...statements.statements.lines.keys()]).to.deep.equal(['alice', 'bob']);
    expect(statements.statements.of('bob').map((line) => line.split(' ')[1])).to.deep.equal(['+5000', '-9000']);

    balances.balances.balances.clear();
    const report = await balances.app.replay('Balances.apply', { since: 'first', idleMs: 1000 });
    expect(report).to.include({ handled: 3, deadLettered: 1, stoppedBy: 'until' });
    expect(Object.fromEntries(balances.balances.balances)).to.deep.equal({ alice: 7_500, bob: 5_000 });
  });
});
