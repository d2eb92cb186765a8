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


async function start(extra: Partial<WarrenOptions> = {}): Promise<{ app: Warren; settled: SettledEvent[] }> {
  const settled: SettledEvent[] = [];
  const app = await Warren.start({ transport: new MemoryTransport(), handlers: [Meter], logger: silentLogger, container: container.createChildContainer(), onSettled: (e) => settled.push(e), ...extra });
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
    expect(await store.claim('k', 1000)).to.equal(true);
    expect(await store.claim('k', 1000)).to.equal(false);
    await store.release('k');
    expect(await store.claim('k', 1000)).to.equal(true);
  });

  it('forgets ids after their time to live', async () => {
    const store = new MemoryInboxStore();
    expect(await store.claim('k', 5)).to.equal(true);
    await new Promise((resolve) => setTimeout(resolve, 15));
    expect(await store.claim('k', 5)).to.equal(true);
  });
});
