import 'reflect-metadata';
import { expect } from 'chai';
import { MemoryTransport } from '@warren/core';
import { AccountEvents } from '../src/handlers';
import { eventually, publishHistory, startService, type LedgerService } from '../src/ledger';
import { afterEachCleanup } from './support/cleanup';

describe('event-log: one stream, several readers (in-memory broker)', () => {
  let broker: MemoryTransport;
  const services: LedgerService[] = [];
  const start = async (service: 'balances' | 'statements') => {
    const started = await startService(service, { transport: broker, env: {} });
    services.push(started);
    return started;
  };

  beforeEach(() => { broker = new MemoryTransport(); });
  afterEachCleanup('close the services', async () => {
    for (const service of services.splice(0).reverse()) await service.app.close();
  });

  async function publishAll(balances: LedgerService): Promise<void> {
    await publishHistory(balances);
    await eventually(() => balances.settled.length === 4);
  }

  it('projects balances from the log and dead-letters, with its reason, a withdrawal the account cannot cover', async () => {
    const balances = await start('balances');
    await publishAll(balances);
    expect(Object.fromEntries(balances.balances.balances)).to.deep.equal({ alice: 7_500, bob: 5_000 });
    const letter = await broker.get('ledger.log.dlq');
    expect(letter?.properties.headers).to.include({ 'x-warren-error-code': 'REJECTED', 'x-warren-stream-offset': 3 });
    expect(String(letter?.properties.headers?.['x-warren-error-message'])).to.contain('account bob holds 5000 cents, cannot withdraw 9000');
  });

  it('lets a second service that starts later read the whole log from the first event, with its own offset', async () => {
    const balances = await start('balances');
    await publishAll(balances);
    const statements = await start('statements');
    await eventually(() => statements.settled.length === 4);
    expect(Object.fromEntries(statements.statements.lines)).to.deep.equal({ alice: ['#0 +10000', '#1 -2500'], bob: ['#2 +5000', '#3 -9000'] });
    await balances.app.get(AccountEvents).deposited({ accountId: 'bob', cents: 1 });
    await eventually(() => statements.settled.length === 5 && balances.settled.length === 5);
    expect(balances.balances.of('bob')).to.equal(5_001);
  });

  it('rebuilds the projection from scratch with a replay through the same handler', async () => {
    const balances = await start('balances');
    await publishAll(balances);
    balances.balances.balances.clear();
    const report = await balances.app.replay('Balances.apply', { since: 'first', idleMs: 200 });
    expect(report).to.include({ handled: 3, deadLettered: 1, first: 0, last: 3, stoppedBy: 'until' });
    expect(Object.fromEntries(balances.balances.balances)).to.deep.equal({ alice: 7_500, bob: 5_000 });
  });
});
