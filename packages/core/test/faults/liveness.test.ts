import 'reflect-metadata';
import { expect } from 'chai';
import { container, injectable } from 'tsyringe';
import { Consumer, MessageContext, Warren } from '../../src';
import { eventually, Ledger, publishAll } from './ledger';
import { describeOnScratchBroker, useScratchAdmin } from './scratch-suite';
import { RecordingLogger, scenarioNames, Tick } from './service';

/**
 * `hang-*` messages never settle; `hold-*` messages wait, on their first delivery only, until the
 * test releases them; every other message is recorded in the ledger.
 */
@injectable()
class HangingTicks {
  static readonly started = new Set<string>();
  static readonly held = new Map<string, () => void>();
  constructor(private readonly ledger: Ledger) {}

  @Consumer('${EX}', 'tick', { queue: '${Q}.ticks', prefetch: 100, concurrency: 20 })
  async tick(tick: Tick, ctx: MessageContext): Promise<void> {
    HangingTicks.started.add(tick.id);
    if (tick.id.startsWith('hang-')) await new Promise(() => undefined);
    if (tick.id.startsWith('hold-') && !ctx.redelivered) await new Promise<void>((resolve) => HangingTicks.held.set(tick.id, resolve));
    this.ledger.recordHandled(tick.id);
  }
}

const SHUTDOWN_MS = 2_000;

function startHanging(url: string, ledger: Ledger, env: Record<string, string>, logger = new RecordingLogger()): Promise<Warren> {
  const scope = container.createChildContainer();
  scope.registerInstance(Ledger, ledger);
  return Warren.start({ url, handlers: [HangingTicks], container: scope, env, logger, telemetry: false, shutdownTimeoutMs: SHUTDOWN_MS });
}

/** Records every change of the first consumer's `attached` in `app.health()`, with when it happened. */
function watchAttached(app: Warren): { changes: Array<{ attached: boolean; at: number }>; stop(): void } {
  const changes: Array<{ attached: boolean; at: number }> = [];
  let last = app.health().consumers[0]!.attached;
  const timer = setInterval(() => {
    const now = app.health().consumers[0]!.attached;
    if (now !== last) changes.push({ attached: now, at: Date.now() });
    last = now;
  }, 10);
  return { changes, stop: () => clearInterval(timer) };
}

describeOnScratchBroker('Under faults: handlers that never settle', {}, (broker) => {
  const { admin, apps } = useScratchAdmin(broker);
  const consumersOn = async (queue: string) => (await admin().inspectQueue(queue)).consumerCount;
  beforeEach(() => { HangingTicks.started.clear(); HangingTicks.held.clear(); });

  it('re-attaches at once after a forced close while a handler never settles, and health says detached, then attached', async function () {
    this.timeout(90_000);
    const ledger = new Ledger('re-attach with a hung handler');
    const { exchange, queue, env } = scenarioNames();
    const logger = new RecordingLogger();
    const service = await startHanging(broker().url, ledger, env, logger);
    apps.push(service);
    await service.publish(exchange, 'tick', { id: 'hang-1' }, { messageId: 'hang-1' });
    await service.publish(exchange, 'tick', { id: 'hold-1' }, { messageId: 'hold-1' });
    await eventually('both handlers are running', () => HangingTicks.started.has('hang-1') && HangingTicks.held.has('hold-1'));
    const watch = watchAttached(service);
    const linesBefore = logger.lines.length;
    await broker().ctl('close_all_connections', 'warren fault test: forced close with a hung handler');
    try {
      const reattachMs = await eventually('the consumer is back on the broker and healthy', async () =>
        (await consumersOn(queue)) === 1 && service.health().status === 'up' && watch.changes.some((c) => c.attached), 45_000);
      const detach = watch.changes.find((c) => !c.attached);
      const attach = watch.changes.find((c) => c.attached);
      // The held handler finishes now, on a channel that no longer exists: its ack is dropped, said once, and the broker redelivers.
      HangingTicks.held.get('hold-1')!();
      ledger.confirmed.add('hold-1');
      await publishAll(service, ledger, { exchange, routingKey: 'tick', prefix: 'after', count: 100 });
      await eventually('the new messages and the redelivered one are handled', () => ledger.lost().length === 0, 30_000);
      const dropped = logger.lines.filter((l) => l.includes('a handler finished after its channel was lost')).length;
      // Measured from the moment the service saw its connection drop (rabbitmqctl itself takes seconds to return).
      const lostAt = logger.firstSaid('lost the broker connection', linesBefore)!;
      const detachMs = detach ? detach.at - lostAt : -1;
      const attachMs = attach ? attach.at - lostAt : -1;
      ledger.print({ 'health detached after ms': detachMs, 'health attached after ms': attachMs, 're-attach after ctl returned ms': reattachMs, 'dropped settlements logged': dropped });
      expect(detach, 'health reported the consumer detached').to.not.equal(undefined);
      expect(attach!.at).to.be.greaterThan(detach!.at);
      // Promise: unready within a second of losing the consumer, re-attached without waiting for handlers (asserted ×3).
      expect(detachMs, 'ms until health reported detached').to.be.at.most(3_000);
      expect(attachMs, 'ms until health reported attached again').to.be.at.most(15_000);
      expect(dropped).to.equal(1);
      expect(ledger.handled.size).to.equal(101);
    } finally {
      watch.stop();
    }
  });

  it('close() resolves within the shutdown deadline and a second while a handler never settles, and the message goes back to the queue', async function () {
    this.timeout(60_000);
    const ledger = new Ledger('close with a hung handler');
    const { exchange, queue, env } = scenarioNames();
    const service = await startHanging(broker().url, ledger, env);
    await service.publish(exchange, 'tick', { id: 'hang-1' }, { messageId: 'hang-1' });
    ledger.confirmed.add('hang-1');
    await eventually('the handler is running', () => HangingTicks.started.has('hang-1'));
    const started = Date.now();
    await service.close();
    const closeMs = Date.now() - started;
    const backMs = await eventually('the message is back in its queue', async () => (await admin().inspectQueue(queue)).messageCount === 1, 15_000);
    // A successor handles it: nothing lost.
    const successor = await startHanging(broker().url, ledger, { ...env });
    apps.push(successor);
    HangingTicks.started.clear();
    await eventually('the successor received it', () => HangingTicks.started.has('hang-1'), 15_000);
    ledger.recordHandled('hang-1');
    ledger.print({ 'shutdownTimeoutMs': SHUTDOWN_MS, 'close ms': closeMs, 'back in queue after close ms': backMs });
    expect(closeMs, 'close() took').to.be.at.most((SHUTDOWN_MS + 1_000) * 3);
    expect(closeMs, 'close() waited for the handler first').to.be.at.least(SHUTDOWN_MS - 100);
    expect(ledger.lost()).to.deep.equal([]);
  });

  it('close() is bounded while the broker is down', async function () {
    this.timeout(90_000);
    const ledger = new Ledger('close with the broker down');
    const { exchange, env } = scenarioNames();
    const service = await startHanging(broker().url, ledger, env);
    await service.publish(exchange, 'tick', { id: 'hang-1' }, { messageId: 'hang-1' });
    await eventually('the handler is running', () => HangingTicks.started.has('hang-1'));
    await broker().ctl('stop_app');
    let closeMs: number;
    try {
      await eventually('the service sees the broker gone', () => !service.health().connected, 15_000);
      const started = Date.now();
      await service.close();
      closeMs = Date.now() - started;
    } finally {
      await broker().ctl('start_app');
    }
    ledger.print({ 'shutdownTimeoutMs': SHUTDOWN_MS, 'close ms': closeMs });
    expect(closeMs, 'close() took').to.be.at.most((SHUTDOWN_MS + 1_000) * 3);
  });

  it('close() is bounded while a resource alarm blocks the publishing connection', async function () {
    this.timeout(60_000);
    const ledger = new Ledger('close while blocked');
    const { exchange, env } = scenarioNames();
    const logger = new RecordingLogger();
    const service = await startHanging(broker().url, ledger, env, logger);
    await service.publish(exchange, 'tick', { id: 'hang-1' }, { messageId: 'hang-1' });
    await eventually('the handler is running', () => HangingTicks.started.has('hang-1'));
    await broker().ctl('set_vm_memory_high_watermark', '0');
    let closeMs: number;
    try {
      // A publish while the alarm is on blocks the connection; it fails when close() cuts it.
      const blocked = service.publish(exchange, 'tick', { id: 'blocked-1' }, { messageId: 'blocked-1' }).catch((error: Error) => error);
      await eventually('the broker blocked publishing', () => logger.said('the broker blocked publishing'), 15_000);
      const started = Date.now();
      await service.close();
      closeMs = Date.now() - started;
      await blocked;
    } finally {
      await broker().ctl('set_vm_memory_high_watermark', '0.4');
    }
    ledger.print({ 'shutdownTimeoutMs': SHUTDOWN_MS, 'close ms': closeMs });
    expect(closeMs, 'close() took').to.be.at.most((SHUTDOWN_MS + 1_000) * 3);
  });

  it('re-attaches after the broker\'s consumer_timeout closes the channel of a hung handler', async function () {
    this.timeout(120_000);
    // consumer_timeout is checked on the channel's tick (every 60 s by default): both lowered for this test only.
    await broker().ctl('eval', 'application:set_env(rabbit, channel_tick_interval, 1000), application:set_env(rabbit, consumer_timeout, 5000).');
    try {
      const ledger = new Ledger('consumer_timeout 5 s');
      const { exchange, queue, env } = scenarioNames();
      const logger = new RecordingLogger();
      const service = await startHanging(broker().url, ledger, env, logger);
      apps.push(service);
      await service.publish(exchange, 'tick', { id: 'hang-1' }, { messageId: 'hang-1' });
      await eventually('the handler is running', () => HangingTicks.started.has('hang-1'));
      const hungAt = Date.now();
      const watch = watchAttached(service);
      let detachMs: number;
      let attachMs: number;
      try {
        await eventually('the broker closed the channel', () => watch.changes.some((c) => !c.attached), 60_000);
        await eventually('the consumer is back', async () => watch.changes.some((c) => c.attached) && (await consumersOn(queue)) === 1, 30_000);
        detachMs = watch.changes.find((c) => !c.attached)!.at - hungAt;
        attachMs = watch.changes.find((c) => c.attached)!.at - hungAt;
      } finally {
        watch.stop();
      }
      await publishAll(service, ledger, { exchange, routingKey: 'tick', prefix: 'ct', count: 100 });
      await eventually('new messages are handled', () => ledger.lost().length === 0, 30_000);
      const reason = logger.lines.find((l) => l.startsWith('warn consumer detached'));
      ledger.print({ 'channel closed after ms': detachMs, 're-attached after ms': attachMs });
      expect(reason, logger.lines.join('\n')).to.match(/PRECONDITION_FAILED|timeout/i);
      expect(attachMs - detachMs, 'ms from the channel closing to re-attach').to.be.at.most(15_000);
      expect(ledger.handled.size).to.equal(100);
    } finally {
      await broker().ctl('eval', 'application:set_env(rabbit, consumer_timeout, 1800000), application:set_env(rabbit, channel_tick_interval, 60000).');
    }
  });
});
