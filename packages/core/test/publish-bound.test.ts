import 'reflect-metadata';
import { expect } from 'chai';
import { container } from 'tsyringe';
import { configFromEnv, MemoryTransport, silentLogger, Warren } from '../src';
import { Permits } from '../src/transports/amqp/permits';
import { DeclaredTopology } from '../src/transports/amqp/topology';

describe('Permits (the bound on publishes in flight)', () => {
  it('hands permits out up to the limit, then to waiters in arrival order', async () => {
    const permits = new Permits(2, 60_000, () => new Error('stalled'));
    expect(permits.tryTake()).to.equal(true);
    expect(permits.tryTake()).to.equal(true);
    expect(permits.tryTake()).to.equal(false);
    const order: number[] = [];
    const waiting = [1, 2, 3].map((n) => permits.take().then(() => { order.push(n); }));
    expect(permits.waiting).to.equal(3);
    permits.give();
    permits.give();
    permits.give();
    await Promise.all(waiting);
    expect(order).to.deep.equal([1, 2, 3]);
    expect(permits.inUse).to.equal(2);
  });

  it('never lets a newcomer overtake a waiter', async () => {
    const permits = new Permits(1, 60_000, () => new Error('stalled'));
    permits.tryTake();
    const first = permits.take();
    permits.give(); // goes to the waiter, not back to the pool
    expect(permits.tryTake()).to.equal(false);
    await first;
  });

  it('fails waiters only when no permit has come back for the stall time', async () => {
    const permits = new Permits(1, 50, () => new Error('stalled'));
    permits.tryTake();
    const waiter = permits.take().then(() => 'granted', (error: Error) => error.message);
    expect(await waiter).to.equal('stalled');
    expect(permits.waiting).to.equal(0);
  });

  it('keeps a moving queue waiting as long as it moves', async () => {
    const permits = new Permits(1, 500, () => new Error('stalled'));
    permits.tryTake();
    const waiters = Array.from({ length: 8 }, () => permits.take().then(() => 'granted', (error: Error) => error.message));
    // One permit back every 100 ms: each well inside the stall time, the whole queue longer than it.
    const started = Date.now();
    for (let i = 0; i < 8; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      permits.give();
    }
    expect(await Promise.all(waiters)).to.deep.equal(Array(8).fill('granted'));
    expect(Date.now() - started).to.be.above(500);
  });
});

describe('DeclaredTopology (exchanges Warren brings back)', () => {
  it('knows the durable exchanges it declared, not auto-delete ones, and forgets deleted ones', () => {
    const declared = new DeclaredTopology();
    declared.record({ exchanges: [{ name: 'orders', type: 'topic' }, { name: 'temp', type: 'fanout', autoDelete: true }, { name: '', type: 'direct' }] });
    expect(declared.knows('orders')).to.equal(true);
    expect(declared.knows('temp')).to.equal(false);
    expect(declared.knows('')).to.equal(false);
    declared.forget({ exchange: 'orders' });
    expect(declared.knows('orders')).to.equal(false);
  });

  it('reports a declared exchange whose publishes still fail NOT_FOUND until a publish to it succeeds', () => {
    const declared = new DeclaredTopology();
    declared.record({ exchanges: [{ name: 'orders', type: 'topic' }] });
    declared.outcome('elsewhere', new Error("NOT_FOUND - no exchange 'elsewhere'"));
    expect(declared.problem).to.equal(undefined);
    declared.outcome('orders', new Error("NOT_FOUND - no exchange 'orders'"));
    expect(declared.problem).to.contain('orders');
    declared.outcome('orders');
    expect(declared.problem).to.equal(undefined);
  });
});

describe('Health while publishing fails', () => {
  it('is down, with the reason, while the transport reports a publish problem', async () => {
    let problem: string | undefined = "PUBLISH_FAILED: NOT_FOUND - no exchange 'orders'";
    class FailingPublishes extends MemoryTransport {
      get publishProblem(): string | undefined { return problem; }
    }
    const app = await Warren.start({ transport: new FailingPublishes(), logger: silentLogger, container: container.createChildContainer() });
    try {
      expect(app.health().status).to.equal('down');
      expect(app.health().lastError).to.contain('NOT_FOUND');
      problem = undefined;
      expect(app.health().status).to.equal('up');
    } finally {
      await app.close();
    }
  });
});

describe('configFromEnv: connecting and publishing settings', () => {
  it('reads WARREN_MAX_IN_FLIGHT_PUBLISHES and WARREN_WAIT_FOR_BROKER', () => {
    expect(configFromEnv({ WARREN_MAX_IN_FLIGHT_PUBLISHES: '500', WARREN_WAIT_FOR_BROKER: 'true' })).to.deep.include({ maxInFlightPublishes: 500, waitForBroker: true });
    expect(() => configFromEnv({ WARREN_MAX_IN_FLIGHT_PUBLISHES: '0' })).to.throw(/WARREN_MAX_IN_FLIGHT_PUBLISHES/);
    expect(() => configFromEnv({ WARREN_WAIT_FOR_BROKER: 'yes' })).to.throw(/WARREN_WAIT_FOR_BROKER/);
  });
});
