import 'reflect-metadata';
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { container, injectable } from 'tsyringe';
import { AmqpTransport, Consumer, MessageContext, Warren } from '../../src';
import { AMQP_URL, describeWithBroker } from '../support/broker';
import { eventually, Ledger, publishAll } from './ledger';
import { RecordingLogger, scenarioNames, Tick } from './service';
import { afterEachCleanup } from '../support/cleanup';

/**
 * The second consumer: records each message and whether it came back from the stopped service
 * (on a classic queue the redelivery guard requeues such a message with x-warren-redeliveries).
 */
@injectable()
class TakeOver {
  static redelivered = 0;
  constructor(private readonly ledger: Ledger) {}

  @Consumer('${EX}', 'tick', { queue: '${Q}.ticks', prefetch: 200, concurrency: 50 })
  async tick(tick: Tick, ctx: MessageContext): Promise<void> {
    if (ctx.redelivered || ctx.header('x-warren-redeliveries') !== undefined) TakeOver.redelivered++;
    this.ledger.recordHandled(tick.id);
  }
}

// Not destructive to the broker (a service process stops, the broker does not): runs on the shared one.
describeWithBroker('Under faults: SIGTERM', function () {
  let dir: string;
  let child: ChildProcess | undefined;
  const apps: Warren[] = [];

  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'warren-sigterm-')); });
  afterEachCleanup('kill the service, close the apps', async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    for (const app of apps.splice(0)) await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loses none of a thousand in-flight messages: finished ones are acked, unfinished ones redelivered', async function () {
    this.timeout(60_000);
    const ledger = new Ledger('SIGTERM');
    const { exchange, queue, env } = scenarioNames();
    const handledFile = join(dir, 'handled');
    let output = '';
    child = spawn(process.execPath, [join(__dirname, 'sigterm-service.js')], {
      env: { ...process.env, AMQP_URL, ...env, HANDLED_FILE: handledFile, WARREN_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => { output += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    await eventually('the service is ready', () => output.includes('ready\n'), 15_000);

    const handledByService = () => readFileSync(handledFile, 'utf8').split('\n').filter(Boolean);
    const publisher = await Warren.start({ url: AMQP_URL, logger: new RecordingLogger(), telemetry: false });
    apps.push(publisher);
    await publishAll(publisher, ledger, { exchange, routingKey: 'tick', prefix: 'term', count: 3_000, inFlight: 64 });
    await eventually('the service is busy', () => handledByService().length >= 200, 15_000);

    const admin = new AmqpTransport({ url: AMQP_URL });
    await admin.connect();
    const waiting = (await admin.inspectQueue(queue)).messageCount;
    const inFlight = ledger.confirmed.size - handledByService().length - waiting;
    child.kill('SIGTERM');
    const code = await exited;
    const finishedByService = handledByService();
    finishedByService.forEach((id) => ledger.recordHandled(id));

    const scope = container.createChildContainer();
    scope.registerInstance(Ledger, ledger);
    TakeOver.redelivered = 0;
    apps.push(await Warren.start({ url: AMQP_URL, handlers: [TakeOver], container: scope, env, logger: new RecordingLogger(), telemetry: false }));
    await eventually('every confirmed message is handled', () => ledger.lost().length === 0, 30_000);
    // Close first: a consumer still attached re-declares a queue deleted under it.
    for (const app of apps.splice(0)) await app.close();
    await admin.deleteQueue(queue).catch(() => undefined);
    await admin.deleteQueue(`${queue}.dlq`).catch(() => undefined);
    await admin.deleteQueue(`${queue}.redelivered`).catch(() => undefined);
    await admin.deleteExchange(exchange).catch(() => undefined);
    await admin.close();
    ledger.print({ 'in flight at SIGTERM': inFlight, 'finished by the service': finishedByService.length, redelivered: TakeOver.redelivered });

    expect(code, output).to.equal(0);
    expect(output).to.contain('shutting down');
    expect(inFlight, 'messages in flight when the signal came').to.be.at.least(900);
    expect(ledger.lost()).to.deep.equal([]);
    // Graceful: every handler that finished had its message acked before the process exited.
    expect(ledger.duplicates, 'messages handled by both the stopped service and its successor').to.equal(0);
    expect(TakeOver.redelivered, 'prefetched messages the service never started').to.be.greaterThan(0);
  });

  it('exits after SIGTERM within the shutdown deadline and a second while a handler never settles; its message goes back to the queue', async function () {
    this.timeout(60_000);
    const shutdownMs = 2_000;
    const ledger = new Ledger('SIGTERM with a hung handler');
    const { exchange, queue, env } = scenarioNames();
    const handledFile = join(dir, 'handled');
    let output = '';
    child = spawn(process.execPath, [join(__dirname, 'sigterm-service.js')], {
      env: { ...process.env, AMQP_URL, ...env, HANDLED_FILE: handledFile, SHUTDOWN_MS: String(shutdownMs), WARREN_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => { output += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    await eventually('the service is ready', () => output.includes('ready\n'), 15_000);
    const publisher = await Warren.start({ url: AMQP_URL, logger: new RecordingLogger(), telemetry: false });
    apps.push(publisher);
    await publisher.publish(exchange, 'tick', { id: 'hang-1' }, { messageId: 'hang-1' });
    ledger.confirmed.add('hang-1');
    await eventually('the handler is running', () => readFileSync(handledFile, 'utf8').includes('started hang-1'), 15_000);
    const signalledAt = Date.now();
    child.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<'alive'>((resolve) => setTimeout(() => resolve('alive'), (shutdownMs + 1_000) * 3))]);
    const exitMs = Date.now() - signalledAt;

    const admin = new AmqpTransport({ url: AMQP_URL });
    await admin.connect();
    try {
      await eventually('the message is back in its queue', async () => (await admin.inspectQueue(queue)).messageCount === 1, 15_000);
      const back = await admin.get(queue);
      if (back && JSON.parse(back.body.toString()).id === 'hang-1') ledger.recordHandled('hang-1');
      await back?.ack();
    } finally {
      await admin.deleteQueue(queue).catch(() => undefined);
      await admin.deleteQueue(`${queue}.dlq`).catch(() => undefined);
      await admin.deleteQueue(`${queue}.redelivered`).catch(() => undefined);
      await admin.deleteExchange(exchange).catch(() => undefined);
      await admin.close();
    }
    ledger.print({ shutdownTimeoutMs: shutdownMs, 'exit after SIGTERM ms': exitMs });
    expect(code, output).to.equal(0);
    expect(exitMs, 'ms from SIGTERM to exit').to.be.at.most((shutdownMs + 1_000) * 3);
    expect(ledger.lost()).to.deep.equal([]);
  });
});
