import 'reflect-metadata';
import { expect } from 'chai';
import fc from 'fast-check';
import { MemoryOffsetStore, silentLogger, type OffsetStore } from '../src';
import { StreamReader } from '../src/stream-reader';
import { auditAppsPerTest, publishAudit, streamNames } from './support/stream-fixtures';
import { until } from './support/until';

/** Resolves after `n` turns of the event loop: handlers and writes that take "some time", without timers. */
async function hops(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** An offset store whose confirmed value a test can read, with writes that take some turns, or fail. */
class WatchedStore implements OffsetStore {
  confirmed: number | undefined;
  writes = 0;
  failing = false;
  constructor(private readonly latency: () => number = () => 0) {}
  async load(): Promise<number | undefined> { return this.confirmed; }
  async save(_consumer: string, offset: number): Promise<void> {
    this.writes++;
    await hops(this.latency());
    if (this.failing) throw new Error('the store is down');
    this.confirmed = offset;
  }
}

function reader(store: OffsetStore, every: number, window: number, until?: number): StreamReader {
  return new StreamReader({ consumer: 'Test.read', start: { kind: 'first' }, window, logger: silentLogger, tracking: { name: 'test', store, every, intervalMs: 60_000 }, until });
}

describe('Stream reader', () => {
  it('moves its position only past messages whose predecessors are done, across gaps in the offsets', async () => {
    const r = reader(new MemoryOffsetStore(), 100, 10);
    let release!: () => void;
    const slow = r.process(3, async () => { await new Promise<void>((resolve) => { release = resolve; }); return true; });
    expect(await r.process(7, async () => true)).to.equal('ack');
    expect(await r.process(12, async () => true)).to.equal('ack');
    expect(r.position).to.equal(undefined);
    release();
    expect(await slow).to.equal('ack');
    expect(r.position).to.equal(12);
    expect(r.processedCount).to.equal(3);
  });

  it('skips what it processed already, and lets a redelivered running message settle once', async () => {
    const r = reader(new MemoryOffsetStore(), 100, 10);
    let runs = 0;
    await r.process(5, async () => { runs++; return true; });
    expect(await r.process(4, async () => { runs++; return true; })).to.equal('ack');
    expect(await r.process(5, async () => { runs++; return true; })).to.equal('ack');
    let release!: () => void;
    const first = r.process(6, async () => { runs++; await new Promise<void>((resolve) => { release = resolve; }); return true; });
    const again = r.process(6, async () => { runs++; return true; });
    release();
    expect([await first, await again]).to.deep.equal(['ack', 'ack']);
    expect(runs).to.equal(2);
  });

  it('resumes right after the stored offset, and refuses a stored value that is not an offset', async () => {
    const store = new MemoryOffsetStore();
    await store.save('test', 41);
    const r = reader(store, 10, 10);
    await r.open();
    expect(r.startArgument()).to.equal(42);
    await store.save('test', -4);
    expect(await reader(store, 10, 10).open().then(() => 'opened', (error: Error) => error.name)).to.equal('InvalidStreamOffsetError');
  });

  it('answers requeue for a message it gave up on because it stopped, and starts nothing after stop()', async () => {
    const r = reader(new MemoryOffsetStore(), 10, 10);
    const pausing = r.process(1, async () => r.pause(60_000));
    r.stop();
    expect(await pausing).to.equal('requeue');
    let ran = false;
    expect(await r.process(2, async () => { ran = true; return true; })).to.equal('requeue');
    expect(ran).to.equal(false);
  });

  it('never lets more than every + window - 1 processed messages lie beyond the stored offset (the bound on repeats after a crash)', async function () {
    this.timeout(60_000);
    let worst = 0;
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 6 }),
      fc.array(fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 6 })), { minLength: 20, maxLength: 120 }),
      fc.integer({ min: 0, max: 8 }),
      async (every, window, concurrency, messages, storeLatency) => {
        const store = new WatchedStore(() => storeLatency);
        const r = reader(store, every, window);
        const processed: number[] = [];
        const beyond = () => processed.filter((o) => store.confirmed === undefined || o > store.confirmed).length;
        let offset = 0;
        let running = 0;
        const all: Array<Promise<unknown>> = [];
        for (const [gap, work] of messages) {
          offset += gap;
          while (running >= concurrency) await hops(1);
          running++;
          const mine = offset;
          all.push(r.process(mine, async () => {
            await hops(work);
            processed.push(mine);
            worst = Math.max(worst, beyond());
            expect(beyond()).to.be.at.most(every + window - 1);
            return true;
          }).finally(() => { running--; }));
        }
        await Promise.all(all);
        expect(processed).to.have.length(messages.length);
      },
    ), { numRuns: 40 });
    console.log(`      (worst case seen: ${worst} processed messages beyond the stored offset)`);
  });

  it('pauses consumption while the offset store refuses writes, and goes on once it takes them', async function () {
    this.timeout(20_000);
    const store = new WatchedStore();
    store.failing = true;
    const r = reader(store, 3, 4);
    const processed: number[] = [];
    const all = Array.from({ length: 20 }, (_, i) => r.process(i, async () => { processed.push(i); return true; }));
    await until(() => store.writes >= 1);
    await hops(20);
    const stalled = processed.length;
    await hops(50);
    expect(processed.length).to.equal(stalled);
    expect(stalled).to.be.within(3, 3 + 4 - 1);
    store.failing = false;
    await Promise.all(all);
    expect(processed).to.have.length(20);
    await until(() => store.confirmed !== undefined && store.confirmed >= 18, 5000);
    await r.flush(1000);
    expect(store.confirmed).to.equal(19);
  });
});

describe('Stream consumer after a crash (in-memory broker)', function () {
  this.timeout(30_000);
  const apps = auditAppsPerTest();

  it('handles again at most offsetCommit.every + prefetch - 1 messages, and skips none', async () => {
    const env = streamNames('stream-crash');
    const store = new WatchedStore();
    const first = await apps.start(env, { offsetStore: store });
    await publishAudit(first.app, env.EX, 0, 60, 'sleep:2');
    await until(() => first.log.handled.length >= 25, 10_000);
    // The crash: from now on nothing more reaches the store (the process's last writes are lost).
    store.failing = true;
    const stored = store.confirmed ?? -1;
    await first.app.close();
    store.failing = false;
    const second = await apps.start(env, { offsetStore: store });
    await until(() => new Set([...first.log.ids(), ...second.log.ids()]).size === 60, 10_000);
    const repeats = second.log.ids().filter((id) => first.log.ids().includes(id));
    console.log(`      (stored offset ${stored}; first life handled ${first.log.handled.length}; repeated ${repeats.length}; bound 5 + 8 - 1 = 12)`);
    expect(repeats.length).to.be.at.most(5 + 8 - 1);
    // Offsets are the event numbers here (one stream, published in order).
    expect(second.log.ids().every((id) => Number(id.slice(1)) > stored)).to.equal(true);
    expect(second.log.ids().length).to.equal(60 - 1 - stored);
  });
});
