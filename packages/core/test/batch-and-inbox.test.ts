import 'reflect-metadata';
import { expect } from 'chai';
import { IsInt, Min } from 'class-validator';
import { container, injectable } from 'tsyringe';
import { Consumer, inbox, MemoryInboxStore, MemoryTransport, MessageContext, silentLogger, Warren, type SettledEvent, type WarrenOptions } from '../src';
import { until } from './support/until';

class Reading {
  @IsInt() @Min(0) value!: number;
}

@injectable()
class Meter {
  readonly batches: number[][] = [];
  readonly singles: number[] = [];
  failNext = false;

  @Consumer('meter', 'reading', { queue: 'meter.batch', message: Reading, batch: { size: 10, timeMs: 30 } })
  async onReadings(readings: Reading[], contexts: MessageContext[]) {
    if (contexts.length !== readings.length) throw new Error('contexts and payloads differ in length');
    if (this.failNext) {
      this.failNext = false;
      throw new Error('storage down');
    }
    this.batches.push(readings.map((r) => r.value));
  }

  @Consumer('meter', 'single', { queue: 'meter.single' })
  async onReading(reading: Reading) {
    this.singles.push(reading.value);
  }
}

@injectable()
class Slow {
  runs = 0;

  @Consumer('slow', 'work', { queue: 'slow.work', message: Reading, concurrency: 2 })
  async work() {
    this.runs++;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

async function start(extra: Partial<WarrenOptions> = {}): Promise<{ app: Warren; settled: SettledEvent[] }> {
  const settled: SettledEvent[] = [];
  const app = await Warren.start({ transport: new MemoryTransport(), logger: silentLogger, container: container.createChildContainer(), onSettled: (e) => settled.push(e), handlers: [Meter], ...extra });
  return { app, settled };
}

describe('Batch consumption', () => {
  it('hands the handler full batches of validated payloads', async () => {
    const { app } = await start();
    try {
      for (let i = 0; i < 25; i++) await app.publish('meter', 'reading', { value: i });
      const meter = app.get(Meter);
      await until(() => meter.batches.flat().length === 25);
      expect(meter.batches.slice(0, 2).map((b) => b.length)).to.deep.equal([10, 10]);
      expect(meter.batches.flat()).to.deep.equal(Array.from({ length: 25 }, (_, i) => i));
    } finally {
      await app.close();
    }
  });

  it('flushes a partial batch after its time window', async () => {
    const { app } = await start();
    try {
      await app.publish('meter', 'reading', { value: 1 });
      await app.publish('meter', 'reading', { value: 2 });
      await until(() => app.get(Meter).batches.length === 1);
      expect(app.get(Meter).batches[0]).to.deep.equal([1, 2]);
    } finally {
      await app.close();
    }
  });

  it('dead-letters an invalid message alone and batches the rest', async () => {
    const { app, settled } = await start();
    try {
      await app.publish('meter', 'reading', { value: 1 });
      await app.publish('meter', 'reading', { value: -5 });
      await app.publish('meter', 'reading', { value: 3 });
      await until(() => settled.length === 3);
      expect(app.get(Meter).batches.flat()).to.deep.equal([1, 3]);
      expect(settled.filter((e) => e.outcome === 'dead-lettered').map((e) => e.error?.code)).to.deep.equal(['VALIDATION_FAILED']);
    } finally {
      await app.close();
    }
  });

  it('sends every message of a failed batch through the failure policy', async () => {
    const { app, settled } = await start();
    try {
      app.get(Meter).failNext = true;
      await app.publish('meter', 'reading', { value: 1 });
      await app.publish('meter', 'reading', { value: 2 });
      await until(() => settled.length === 2);
      expect(settled.map((e) => e.outcome)).to.deep.equal(['dead-lettered', 'dead-lettered']);
      expect((await app.transport.inspectQueue('meter.batch.dlq')).messageCount).to.equal(2);
    } finally {
      await app.close();
    }
  });
});

describe('Inbox', () => {
  it('processes a message id once, however often it is delivered', async () => {
    const { app, settled } = await start({ middleware: { consume: [inbox()] } });
    try {
      for (let i = 0; i < 3; i++) await app.publish('meter', 'single', { value: 7 }, { messageId: 'reading-7' });
      await app.publish('meter', 'single', { value: 8 }, { messageId: 'reading-8' });
      await until(() => settled.length === 4);
      expect(app.get(Meter).singles).to.deep.equal([7, 8]);
      expect(settled.every((e) => e.outcome === 'handled')).to.equal(true);
    } finally {
      await app.close();
    }
  });

  it('forgets a claim when the handler fails, so a retry can run', async () => {
    const store = new MemoryInboxStore();
    expect(await store.claim('k', 1000)).to.equal('claimed');
    expect(await store.claim('k', 1000)).to.equal('busy');
    await store.release('k');
    expect(await store.claim('k', 1000)).to.equal('claimed');
  });

  it('keeps a processed id for its time to live, apart from the claim\'s short lease', async () => {
    const store = new MemoryInboxStore();
    expect(await store.claim('k', 5)).to.equal('claimed');
    await store.complete('k', 60_000);
    await new Promise((resolve) => setTimeout(resolve, 15));
    expect(await store.claim('k', 5)).to.equal('processed');
    await store.complete('j', 5);
    await new Promise((resolve) => setTimeout(resolve, 15));
    expect(await store.claim('j', 5)).to.equal('claimed');
  });

  it('runs a message whose earlier claim was left by a process that died mid-handler, once its lease ends', async () => {
    const store = new MemoryInboxStore();
    // A claim whose holder died: nobody renews or completes it.
    expect(await store.claim('Meter.onReading:reading-9', 100)).to.equal('claimed');
    const { app, settled } = await start({ middleware: { consume: [inbox({ store, leaseMs: 100 })] } });
    try {
      await app.publish('meter', 'single', { value: 9 }, { messageId: 'reading-9' });
      await until(() => settled.length === 1);
      expect(app.get(Meter).singles).to.deep.equal([9]);
      expect(await store.claim('Meter.onReading:reading-9', 100)).to.equal('processed');
    } finally {
      await app.close();
    }
  });

  it('renews the lease while a slow handler runs, so a concurrent copy waits and is then acked without running', async () => {
    const { app, settled } = await start({ handlers: [Slow], middleware: { consume: [inbox({ leaseMs: 60, busyWaitMs: 5000 })] } });
    try {
      await app.publish('slow', 'work', { value: 1 }, { messageId: 'slow-1' });
      await app.publish('slow', 'work', { value: 1 }, { messageId: 'slow-1' });
      await until(() => settled.length === 2, 5000);
      expect(app.get(Slow).runs).to.equal(1);
      expect(settled.map((e) => e.outcome)).to.deep.equal(['handled', 'handled']);
    } finally {
      await app.close();
    }
  });

  it('keys each message of a batch: a redelivered message is taken out, the rest of its batch runs', async () => {
    const { app, settled } = await start({ middleware: { consume: [inbox()] } });
    try {
      await app.publish('meter', 'reading', { value: 1 }, { messageId: 'b-1' });
      await until(() => settled.length === 1);
      for (const value of [1, 2, 3]) await app.publish('meter', 'reading', { value }, { messageId: `b-${value}` });
      await until(() => settled.length === 4);
      expect(app.get(Meter).batches).to.deep.equal([[1], [2, 3]]);
      expect(settled.every((e) => e.outcome === 'handled')).to.equal(true);
    } finally {
      await app.close();
    }
  });
});
