import 'reflect-metadata';
import { expect } from 'chai';
import { IsString } from 'class-validator';
import { container, injectable } from 'tsyringe';
import {
  AmqpTransport, ConfigurationError, Consumer, HandlerTimeoutError, MemoryTransport, MessageContext, Warren, type FetchedMessage, type SettledEvent, type Transport,
} from '../src';
import { consumerTimeoutConflicts } from '../src/handler-timeout';
import { RecordingLogger } from './faults/service';
import { AMQP_URL, describeWithBroker, uniqueName } from './support/broker';
import { until } from './support/until';

class Job {
  @IsString() id!: string;
}

/** What the hanging handler saw, one entry per call. */
@injectable()
class Calls {
  signals: AbortSignal[] = [];
  abortedAtStart: boolean[] = [];
  /** Lets the hung calls finish, to see that their late results are ignored. */
  release!: () => void;
  readonly released = new Promise<void>((resolve) => { this.release = resolve; });
}

const TIMEOUT_MS = 300;

@injectable()
class HangingJobs {
  constructor(private readonly calls: Calls) {}

  @Consumer('${EX}', 'job', { queue: '${Q}.jobs', timeoutMs: TIMEOUT_MS, retry: { attempts: 2, delay: 20 } })
  async run(_job: Job, ctx: MessageContext): Promise<string> {
    this.calls.signals.push(ctx.signal);
    this.calls.abortedAtStart.push(ctx.signal.aborted);
    await this.calls.released; // ignores its signal on purpose
    return 'too late';
  }
}

@injectable()
class PoliteJobs {
  static finishedAfterAbort = 0;

  @Consumer('${EX}', 'polite', { queue: '${Q}.polite', timeoutMs: TIMEOUT_MS })
  async run(_job: Job, ctx: MessageContext): Promise<void> {
    await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
    PoliteJobs.finishedAfterAbort++;
    throw ctx.signal.reason;
  }
}

/** The handler-timeout specification, on one broker. */
function handlerTimeoutSpecs(broker: { transport?: () => Transport; url?: string }): void {
  let app: Warren | undefined;
  let names: { exchange: string; prefix: string };

  beforeEach(() => { names = { exchange: uniqueName('timeout-ex'), prefix: uniqueName('timeout-q') }; });
  afterEach(async function () {
    this.timeout(20_000);
    const closing = app;
    app = undefined;
    // Close first: a consumer still attached would re-declare a queue deleted under it.
    await closing?.close();
    if (!broker.url) return; // the in-memory broker went with the app
    const admin = new AmqpTransport({ url: broker.url });
    try {
      await admin.connect();
      for (const queue of ['jobs', 'jobs.dlq', 'jobs.retry', 'jobs.redelivered', 'polite', 'polite.dlq', 'polite.redelivered']) await admin.deleteQueue(`${names.prefix}.${queue}`).catch(() => undefined);
      await admin.deleteExchange(names.exchange).catch(() => undefined);
    } finally {
      await admin.close();
    }
  });

  async function start(handlers: Function[], calls: Calls, logger: RecordingLogger, events: SettledEvent[]): Promise<Warren> {
    const scope = container.createChildContainer();
    scope.registerInstance(Calls, calls);
    app = await Warren.start({
      transport: broker.transport?.(), url: broker.url, handlers: handlers as never, container: scope, logger, telemetry: false,
      env: { EX: names.exchange, Q: names.prefix }, onSettled: (e) => events.push(e),
    });
    return app;
  }

  async function fetchDeadLetter(transport: Transport, queue: string): Promise<FetchedMessage> {
    let message: FetchedMessage | undefined;
    await until(async () => (message = await transport.get(queue)) !== undefined, 5_000);
    await message!.ack();
    return message!;
  }

  it('retries a hanging handler with HANDLER_TIMEOUT, then dead-letters it with reason headers', async function () {
    this.timeout(15_000);
    const calls = new Calls();
    const logger = new RecordingLogger();
    const events: SettledEvent[] = [];
    const service = await start([HangingJobs], calls, logger, events);
    const started = Date.now();
    await service.publish(names.exchange, 'job', { id: 'j1' }, { messageId: 'j1' });
    await until(() => events.length === 2, 10_000);
    const elapsedMs = Date.now() - started;
    console.log(`      handler timeout | two ${TIMEOUT_MS} ms timeouts settled in ${elapsedMs} ms`);

    expect(events.map((e) => [e.outcome, e.attempt, e.error?.code])).to.deep.equal([['retried', 1, 'HANDLER_TIMEOUT'], ['dead-lettered', 2, 'HANDLER_TIMEOUT']]);
    expect(events[0]!.error).to.be.instanceOf(HandlerTimeoutError);
    // Settled without waiting for the handler, which is still running.
    expect(elapsedMs).to.be.below(3 * (2 * TIMEOUT_MS + 1_000));
    const dead = await fetchDeadLetter(service.transport, `${names.prefix}.jobs.dlq`);
    expect(dead.properties.headers).to.include({ 'x-warren-error-code': 'HANDLER_TIMEOUT', 'x-warren-attempts': 2, 'x-warren-consumer': 'HangingJobs.run' });
    expect(String(dead.properties.headers!['x-warren-error-message'])).to.contain(`${TIMEOUT_MS} ms`);
    expect(JSON.parse(dead.body.toString())).to.deep.equal({ id: 'j1' });
  });

  it('aborts ctx.signal at the timeout, and logs a late result once without settling again', async function () {
    this.timeout(15_000);
    const calls = new Calls();
    const logger = new RecordingLogger();
    const events: SettledEvent[] = [];
    const service = await start([HangingJobs], calls, logger, events);
    await service.publish(names.exchange, 'job', { id: 'j2' }, { messageId: 'j2' });
    await until(() => events.length === 2, 10_000);

    expect(calls.abortedAtStart).to.deep.equal([false, false]);
    expect(calls.signals.map((s) => s.aborted)).to.deep.equal([true, true]);
    expect(calls.signals[0]!.reason).to.be.instanceOf(HandlerTimeoutError);
    expect((calls.signals[0]!.reason as HandlerTimeoutError).code).to.equal('HANDLER_TIMEOUT');
    calls.release();
    await until(() => logger.lines.filter((l) => l.includes('finished after its timeout')).length === 2, 5_000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(logger.lines.filter((l) => l.includes('finished after its timeout'))).to.have.length(2);
    expect(events, 'a late result settles nothing').to.have.length(2);
  });

  it('lets a handler that honours ctx.signal stop at the timeout', async function () {
    this.timeout(15_000);
    PoliteJobs.finishedAfterAbort = 0;
    const logger = new RecordingLogger();
    const events: SettledEvent[] = [];
    const service = await start([PoliteJobs], new Calls(), logger, events);
    await service.publish(names.exchange, 'polite', { id: 'p1' });
    await until(() => events.length === 1 && PoliteJobs.finishedAfterAbort === 1, 10_000);
    expect(events[0]).to.include({ outcome: 'dead-lettered' });
    expect(events[0]!.error?.code).to.equal('HANDLER_TIMEOUT');
    await until(() => logger.said('finished after its timeout'), 5_000);
  });
}

describe('Handler timeout', () => {
  describe('on the in-memory broker', () => handlerTimeoutSpecs({ transport: () => new MemoryTransport() }));

  describeWithBroker('on RabbitMQ', () => handlerTimeoutSpecs({ url: AMQP_URL }));

  it('refuses a timeout that is not a whole number of ms between 1 and 2^31 − 1', async () => {
    const startWith = (timeoutMs: number, where: 'app' | 'consumer') => {
      const scope = container.createChildContainer();
      scope.registerInstance(Calls, new Calls());
      return Warren.start({
        transport: new MemoryTransport(), handlers: [PoliteJobs], logger: new RecordingLogger(), telemetry: false, container: scope, env: { EX: 'ex', Q: 'q' },
        ...(where === 'app' ? { handlerTimeoutMs: timeoutMs } : { consumers: { 'PoliteJobs.run': { timeoutMs } } }),
      }).then((app) => app.close().then(() => undefined), (e: unknown) => e);
    };
    for (const where of ['app', 'consumer'] as const) {
      for (const timeoutMs of [0, -5, 1.5, 2 ** 31]) expect(await startWith(timeoutMs, where), `${where} ${timeoutMs}`).to.be.instanceOf(ConfigurationError);
      expect(await startWith(2 ** 31 - 1, where), `${where} 2^31 − 1`).to.equal(undefined);
    }
  });

  it('warns at start about a handler timeout at or above the broker consumer_timeout', async () => {
    const logger = new RecordingLogger();
    const scope = container.createChildContainer();
    scope.registerInstance(Calls, new Calls());
    const app = await Warren.start({
      transport: new MemoryTransport(), handlers: [PoliteJobs], logger, telemetry: false, container: scope, env: { EX: 'ex', Q: 'q' },
      consumers: { 'PoliteJobs.run': { timeoutMs: 60_000 } }, brokerConsumerTimeoutMs: 60_000,
    });
    await app.close();
    const warning = logger.lines.find((l) => l.includes('consumer_timeout'));
    expect(warning).to.contain('"consumer":"PoliteJobs.run"').and.contain('"brokerConsumerTimeoutMs":60000');
  });

  it('compares with the queue\'s own x-consumer-timeout when it sets one, else with the broker default', () => {
    const conflicts = consumerTimeoutConflicts([
      { id: 'A.a', queue: 'a', timeoutMs: 300_000 },
      { id: 'B.b', queue: 'b', timeoutMs: 300_000, queueArguments: { 'x-consumer-timeout': 120_000 } },
      { id: 'C.c', queue: 'c', timeoutMs: 1_800_000 },
    ], 1_800_000);
    expect(conflicts.map((c) => [c.consumer, c.brokerConsumerTimeoutMs])).to.deep.equal([['B.b', 120_000], ['C.c', 1_800_000]]);
  });
});
