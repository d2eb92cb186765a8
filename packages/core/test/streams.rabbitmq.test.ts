import 'reflect-metadata';
import { expect } from 'chai';
import { IsString } from 'class-validator';
import { container, inject, injectable } from 'tsyringe';
import { AmqpTransport, Consumer, MemoryOffsetStore, silentLogger, Warren, type SettledEvent } from '../src';
import { AMQP_URL, describeWithBroker, uniqueName } from './support/broker';
import { afterEachCleanup } from './support/cleanup';
import { publishAudit, startAudit, streamNames } from './support/stream-fixtures';
import { until } from './support/until';

describeWithBroker('Stream consumers', function () {
  this.timeout(30_000);
  const apps: Warren[] = [];
  const streams: string[] = [];
  let admin: AmqpTransport;

  before(async () => {
    admin = new AmqpTransport({ url: AMQP_URL, connectionName: 'warren-stream-tests' });
    await admin.connect();
  });
  after(async () => { await admin?.close(); });
  afterEachCleanup('close the apps, delete the streams', async () => {
    for (const app of apps.splice(0)) await app.close();
    for (const name of streams.splice(0)) {
      for (const queue of [name, `${name}.dlq`]) await admin.deleteQueue(queue).catch(() => undefined);
    }
  });

  const start = async (env: { EX: string; S: string }, extra: Parameters<typeof startAudit>[2] = {}) => {
    streams.push(env.S);
    const started = await startAudit(new AmqpTransport({ url: AMQP_URL, connectionName: 'warren-stream-app' }), env, extra);
    apps.push(started.app);
    return started;
  };

  it('consumes a stream, retries in process, dead-letters by publish, and never nacks (the connection stays up)', async () => {
    const env = streamNames('rmq-stream');
    const { app, log, settled } = await start(env);
    await publishAudit(app, env.EX, 0, 3);
    await publishAudit(app, env.EX, 3, 4, 'fail-once');
    await publishAudit(app, env.EX, 4, 5, 'fail');
    await publishAudit(app, env.EX, 5, 6);
    await until(() => log.handled.length === 5 && settled.some((s) => s.outcome === 'dead-lettered'), 15_000);
    expect(log.ids().sort()).to.deep.equal(['e0', 'e1', 'e2', 'e3', 'e5']);
    for (const h of log.handled) expect(h.offset).to.be.a('number');
    const letter = await until(async () => (await admin.inspectQueue(`${env.S}.dlq`)).messageCount === 1, 10_000).then(() => admin.get(`${env.S}.dlq`));
    await letter!.ack();
    expect(letter!.properties.headers).to.include({ 'x-warren-error-code': 'HANDLER_FAILED', 'x-warren-attempts': 3, 'x-warren-original-queue': env.S });
    const offsetOf = (id: string) => log.handled.find((h) => h.id === id)!.offset!;
    expect(letter!.properties.headers!['x-warren-stream-offset']).to.be.a('number').within(offsetOf('e3') + 1, offsetOf('e5') - 1);
    expect(app.health().status).to.equal('up');
  });

  it('resumes after its stored offset when the service starts again', async () => {
    const env = streamNames('rmq-stream-resume');
    const offsets = new MemoryOffsetStore();
    const first = await start(env, { offsetStore: offsets });
    await publishAudit(first.app, env.EX, 0, 5);
    await until(() => first.log.handled.length === 5, 15_000);
    await first.app.close();
    const stored = await offsets.load(`${env.S}:Audit.record`);
    expect(stored).to.equal(Math.max(...first.log.handled.map((h) => h.offset!)));
    const second = await start(env, { offsetStore: offsets });
    await publishAudit(second.app, env.EX, 5, 8);
    await until(() => second.log.handled.length === 3, 15_000);
    expect(second.log.ids().sort()).to.deep.equal(['e5', 'e6', 'e7']);
  });

  it('replays the stream through the handler as a second reader, up to the consumer\'s position', async () => {
    const env = streamNames('rmq-stream-replay');
    const { app, log } = await start(env);
    await publishAudit(app, env.EX, 0, 4);
    await until(() => log.handled.length === 4, 15_000);
    const offsets = log.handled.map((h) => h.offset!).sort((a, b) => a - b);
    const report = await app.replay('Audit.record', { since: offsets[1]!, idleMs: 1000 });
    expect(report).to.include({ handled: 3, deadLettered: 0, first: offsets[1], last: offsets[3], stoppedBy: 'until' });
    expect(log.ids().slice(4).sort()).to.deep.equal(['e1', 'e2', 'e3']);
  });
});

/** Which app instance a handler belongs to. */
const INSTANCE = Symbol('instance');

class Job {
  @IsString() id!: string;
}

/** The jobs each app instance was given, by instance name. */
const seen = new Map<string, string[]>();
let hold: Promise<void> | undefined;
const record = (instance: string, job: Job) => seen.set(instance, [...(seen.get(instance) ?? []), job.id]);

@injectable()
class ClassicWorker {
  constructor(@inject(INSTANCE) private readonly instance: string) {}
  @Consumer('', '', { queue: '${Q}', queueType: 'classic', singleActiveConsumer: true, prefetch: 5 })
  async work(job: Job) { record(this.instance, job); }
}

@injectable()
class QuorumWorker {
  constructor(@inject(INSTANCE) private readonly instance: string) {}
  @Consumer('', '', { queue: '${Q}', queueType: 'quorum', singleActiveConsumer: true, prefetch: 5 })
  async work(job: Job) { record(this.instance, job); }
}

/** Holds its jobs until the test lets go: it fills its prefetch of 2. */
@injectable()
class HighPriorityWorker {
  constructor(@inject(INSTANCE) private readonly instance: string) {}
  @Consumer('', '', { queue: '${Q}', priority: 10, prefetch: 2, concurrency: 2 })
  async work(job: Job) { record(this.instance, job); await hold; }
}

@injectable()
class LowPriorityWorker {
  constructor(@inject(INSTANCE) private readonly instance: string) {}
  @Consumer('', '', { queue: '${Q}', priority: 1, prefetch: 10 })
  async work(job: Job) { record(this.instance, job); }
}

describeWithBroker('Single active consumer and consumer priority across app instances', function () {
  this.timeout(30_000);
  const apps: Warren[] = [];
  const queues: string[] = [];
  afterEachCleanup('close the apps, delete the queues', async () => {
    for (const app of apps.splice(0)) await app.close();
    const admin = new AmqpTransport({ url: AMQP_URL });
    await admin.connect();
    for (const queue of queues.splice(0)) for (const q of [queue, `${queue}.dlq`, `${queue}.redelivered`]) await admin.deleteQueue(q).catch(() => undefined);
    await admin.close();
  });

  const instance = async (name: string, handler: Function, env: Record<string, string>, settled?: (e: SettledEvent) => void) => {
    const scope = container.createChildContainer();
    scope.register(INSTANCE, { useValue: name });
    const app = await Warren.start({ url: AMQP_URL, handlers: [handler as never], env, container: scope, logger: silentLogger, telemetry: false, onSettled: settled });
    apps.push(app);
    return app;
  };

  for (const [type, Worker] of [['classic', ClassicWorker], ['quorum', QuorumWorker]] as const) {
    it(`gives a ${type} queue's messages to one instance only, and fails over to the other when it closes`, async () => {
      const queue = uniqueName(`sac-${type}`);
      queues.push(queue);
      seen.clear();
      const a = await instance('a', Worker, { Q: queue });
      const b = await instance('b', Worker, { Q: queue });
      for (let i = 0; i < 5; i++) await a.publish('', queue, { id: `j${i}` });
      await until(() => (seen.get('a')?.length ?? 0) === 5, 10_000);
      expect(seen.get('b')).to.equal(undefined);
      await a.close();
      for (let i = 5; i < 10; i++) await b.publish('', queue, { id: `j${i}` });
      await until(() => (seen.get('b')?.length ?? 0) === 5, 10_000);
      expect(seen.get('a')).to.deep.equal(['j0', 'j1', 'j2', 'j3', 'j4']);
      expect(seen.get('b')).to.deep.equal(['j5', 'j6', 'j7', 'j8', 'j9']);
    });
  }

  it('gives messages to the higher-priority instance while it has room, and to the other once it is full', async () => {
    const queue = uniqueName('priority');
    queues.push(queue);
    seen.clear();
    let release!: () => void;
    hold = new Promise((resolve) => { release = resolve; });
    try {
      const low = await instance('low', LowPriorityWorker, { Q: queue });
      await instance('high', HighPriorityWorker, { Q: queue });
      for (let i = 0; i < 2; i++) await low.publish('', queue, { id: `p${i}` });
      await until(() => (seen.get('high')?.length ?? 0) === 2, 10_000);
      for (let i = 2; i < 4; i++) await low.publish('', queue, { id: `p${i}` });
      await until(() => (seen.get('low')?.length ?? 0) === 2, 10_000);
      expect(seen.get('high')).to.deep.equal(['p0', 'p1']);
      expect(seen.get('low')).to.deep.equal(['p2', 'p3']);
    } finally {
      release();
    }
  });
});
