import 'reflect-metadata';
import { expect } from 'chai';
import { ConfigurationError, Consumer, MemoryOffsetStore } from '../src';
import { Audit, AuditEvent, auditAppsPerTest, OutlivingTransport, publishAudit, streamNames } from './support/stream-fixtures';
import { until } from './support/until';
import type { DeliveryHandler, SubscribeOptions, Subscription } from '../src/transport';
import { replayStream } from '../src/stream-replay';

describe('Stream consumers', function () {
  this.timeout(15_000);
  const apps = auditAppsPerTest();
  const start = apps.start;
  const broker = { get: (queue: string) => apps.broker().get(queue) };

  it('reads from its offset option, in order, and gives the handler each message\'s ctx.streamOffset', async () => {
    const env = streamNames('stream-read');
    const { app, log } = await start(env);
    await publishAudit(app, env.EX, 0, 6);
    await until(() => log.handled.length === 6);
    expect(log.ids().sort()).to.deep.equal(['e0', 'e1', 'e2', 'e3', 'e4', 'e5']);
    const offsets = log.handled.map((h) => h.offset);
    expect([...offsets].sort()).to.deep.equal([0, 1, 2, 3, 4, 5]);
  });

  it('refuses two stream consumers on one stream in one app: each reader tracks its own offset', async () => {
    class SecondReader {
      @Consumer('${EX}', 'audit.special', { exchangeType: 'topic', queue: '${S}', queueType: 'stream', offset: 'first', prefetch: 8, concurrency: 4, retry: { attempts: 3, delay: 10 }, offsetCommit: { every: 5, intervalMs: 60_000 } })
      async read(_event: AuditEvent) {}
    }
    const env = streamNames('stream-shared');
    const error = await rejection(start(env, { handlers: [Audit, SecondReader] }));
    expect(error).to.be.instanceOf(ConfigurationError);
    expect(error.message).to.match(/a stream consumer needs its stream to itself in one app .* also consumed by SecondReader\.read/);
  });

  it('declares the stream without dead-letter arguments, and a quorum dead-letter queue beside it', async () => {
    const env = streamNames('stream-topology');
    const { app } = await start(env);
    const plan = app.consumers[0]!;
    const stream = plan.topology.queues!.find((q) => q.name === env.S)!;
    expect(stream.arguments).to.deep.equal({ 'x-queue-type': 'stream' });
    expect(plan.topology.queues!.map((q) => q.name)).to.deep.equal([env.S, `${env.S}.dlq`]);
    expect(plan.topology.queues![1]!.arguments!['x-queue-type']).to.equal('quorum');
    expect(plan.retryHop).to.equal(undefined);
    expect(plan.redeliveredQueue).to.equal(undefined);
  });

  it('retries a failing handler in process after its delay, counting attempts, then handles it', async () => {
    const env = streamNames('stream-retry');
    const { app, log, settled } = await start(env);
    await publishAudit(app, env.EX, 0, 1, 'fail-once');
    await until(() => log.handled.length === 1);
    expect(log.handled[0]).to.include({ id: 'e0', attempt: 2, offset: 0 });
    expect(settled.map((s) => s.outcome)).to.deep.equal(['retried', 'handled']);
  });

  it('treats requeue() as an in-process retry (a stream cannot take a message back)', async () => {
    const env = streamNames('stream-requeue');
    const { app, log } = await start(env);
    await publishAudit(app, env.EX, 0, 1, 'requeue-once');
    await until(() => log.handled.length === 1);
    expect(log.handled[0]).to.include({ id: 'e0', attempt: 2 });
  });

  it('dead-letters by publish, with the reason headers and its stream offset, after the last attempt, and reads on', async () => {
    const env = streamNames('stream-dead-letter');
    const { app, log, settled } = await start(env);
    await publishAudit(app, env.EX, 0, 1, 'fail');
    await app.publish(env.EX, 'audit.event', { id: 'bad', n: -1, script: 'ok' }, { messageId: 'bad' });
    await publishAudit(app, env.EX, 2, 3);
    await until(() => log.handled.length === 1 && settled.filter((s) => s.outcome === 'dead-lettered').length === 2);
    const letters = [await broker.get(`${env.S}.dlq`), await broker.get(`${env.S}.dlq`)];
    const headers = letters.map((l) => l!.properties.headers!).sort((a, b) => (a['x-warren-stream-offset'] as number) - (b['x-warren-stream-offset'] as number));
    expect(headers.map((h) => h['x-warren-error-code'])).to.deep.equal(['HANDLER_FAILED', 'VALIDATION_FAILED']);
    expect(headers.map((h) => h['x-warren-stream-offset'])).to.deep.equal([0, 1]);
    expect(headers.map((h) => h['x-warren-attempts'])).to.deep.equal([3, 1]);
    expect(headers.every((h) => h['x-stream-offset'] === undefined && h['x-warren-original-queue'] === env.S)).to.equal(true);
    expect(log.ids()).to.deep.equal(['e2']);
  });

  it('dead-letters a delivery without a valid x-stream-offset header (INVALID_STREAM_OFFSET) and keeps reading', async () => {
    const env = streamNames('stream-bad-header');
    // The broker always sets the header; a transport that garbles it stands in for a hostile or broken one.
    class Garbling extends OutlivingTransport {
      override subscribe(options: SubscribeOptions, handler: DeliveryHandler): Promise<Subscription> {
        return super.subscribe(options, (delivery) => {
          const offset = delivery.properties.headers?.['x-stream-offset'];
          const garbled = offset === 0 ? '0' : offset === 1 ? -1 : offset === 2 ? 2 ** 60 : offset;
          return handler({ ...delivery, properties: { ...delivery.properties, headers: { ...delivery.properties.headers, 'x-stream-offset': garbled } } });
        });
      }
    }
    const { app, log, settled } = await start(env, {}, new Garbling(apps.broker()));
    await publishAudit(app, env.EX, 0, 4);
    await until(() => log.handled.length === 1 && settled.length === 4);
    expect(log.ids()).to.deep.equal(['e3']);
    expect(settled.filter((s) => s.outcome === 'dead-lettered').map((s) => s.error?.code)).to.deep.equal(['INVALID_STREAM_OFFSET', 'INVALID_STREAM_OFFSET', 'INVALID_STREAM_OFFSET']);
  });

  it('resumes after the stored offset when the service starts again, handling nothing twice after a clean close', async () => {
    const env = streamNames('stream-resume');
    const offsets = new MemoryOffsetStore();
    const first = await start(env, { offsetStore: offsets });
    await publishAudit(first.app, env.EX, 0, 7);
    await until(() => first.log.handled.length === 7);
    await first.app.close();
    expect(await offsets.load(`${env.S}:Audit.record`)).to.equal(6);
    const second = await start(env, { offsetStore: offsets });
    await publishAudit(second.app, env.EX, 7, 10);
    await until(() => second.log.handled.length === 3);
    expect(second.log.ids().sort()).to.deep.equal(['e7', 'e8', 'e9']);
  });

  it('replays a stream through the handler up to the consumer\'s position as a second reader, leaving its offset alone', async () => {
    const env = streamNames('stream-replay');
    const offsets = new MemoryOffsetStore();
    const { app, log } = await start(env, { offsetStore: offsets });
    await publishAudit(app, env.EX, 0, 5);
    await until(() => log.handled.length === 5);
    const report = await app.replay('Audit.record', { since: 2, idleMs: 200 });
    expect(report).to.include({ consumer: 'Audit.record', stream: env.S, until: 4, first: 2, last: 4, handled: 3, deadLettered: 0, stoppedBy: 'until' });
    expect(log.ids().slice(5)).to.have.members(['e2', 'e3', 'e4']);
    await publishAudit(app, env.EX, 5, 6);
    await until(() => log.handled.length === 9);
    expect(log.ids()[8]).to.equal('e5');
    await app.close();
    expect(await offsets.load(`${env.S}:Audit.record`)).to.equal(5);
  });

  it('replays from a time back from now and stops when nothing more arrives, past an explicit until', async () => {
    const env = streamNames('stream-replay-time');
    const { app, log } = await start(env);
    await publishAudit(app, env.EX, 0, 3);
    await until(() => log.handled.length === 3);
    const report = await app.replay(env.S, { since: '1h', until: 100, idleMs: 200 });
    expect(report).to.include({ handled: 3, first: 0, last: 2, stoppedBy: 'idle' });
    await app.close();
    expect((await rejection(app.replay('Nobody.here', { since: 'first' }))).message).to.match(/No consumer Nobody.here/);
  });

  it('refuses to replay a consumer that does not read a stream', async () => {
    const env = streamNames('stream-replay-refused');
    const { app } = await start(env);
    const plan = app.consumers[0]!;
    const classic = { ...plan, stream: undefined, queueType: 'classic' as const };
    expect((await rejection(replayStream(classic, {} as never, { store: new MemoryOffsetStore() }, { since: 'first' }))).message).to.match(/only streams can be replayed/);
  });
});

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}
