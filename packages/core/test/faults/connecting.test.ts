import 'reflect-metadata';
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import { container } from 'tsyringe';
import { ConnectionError, Warren, type WarrenOptions } from '../../src';
import { AMQP_URL, describeWithBroker } from '../support/broker';
import { eventually, Ledger, publishAll } from './ledger';
import { freePorts, ScratchBroker, scratchNodesAvailable, sleep } from './scratch-broker';
import { RecordingLogger, scenarioNames, TickHandlers } from './service';

const PASSWORD = 'Conn3ct-S3cret-Pa55';

/** Starts a service that must fail; returns the error, how long it took, and everything it printed. */
async function failedStart(url: string, extra: Partial<WarrenOptions> = {}): Promise<{ error: unknown; elapsedMs: number; output: string }> {
  const logger = new RecordingLogger();
  const { env } = scenarioNames();
  const scope = container.createChildContainer();
  scope.registerInstance(Ledger, new Ledger('never runs'));
  const started = Date.now();
  let error: unknown;
  try {
    await (await Warren.start({ url, handlers: [TickHandlers], env, logger, telemetry: false, container: scope, ...extra })).close();
  } catch (e) {
    error = e;
  }
  const elapsedMs = Date.now() - started;
  const causes: string[] = [];
  for (let e = error as { message?: unknown; stack?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) causes.push(String(e.message), String(e.stack));
  return { error, elapsedMs, output: [...causes, ...logger.lines].join('\n') };
}

/** How often `text` occurs in `message`. */
function occurrences(message: string, text: string): number {
  return message.split(text).length - 1;
}

/** A server on a random loopback port that answers every connection with `answer` (or closes it when `answer` is null). */
async function fakeServer(answer: (socket: net.Socket) => void): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    answer(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }),
  };
}

describe('Connecting: failures say why, quickly', () => {
  const uncaught: unknown[] = [];
  const record = (error: unknown) => { uncaught.push(error); };
  // Mocha turns an uncaught exception into a failure of whichever test runs; recording it here
  // makes the test that caused it fail with a clear message.
  beforeEach(() => { uncaught.length = 0; process.prependListener('uncaughtException', record); });
  afterEach(() => { process.removeListener('uncaughtException', record); });

  it('fails with a typed ConnectionError naming ECONNREFUSED within 2 s when nothing listens on the port', async function () {
    this.timeout(20_000);
    const [port] = await freePorts(1);
    const url = `amqp://guest:${PASSWORD}@127.0.0.1:${port}`;
    const { error, elapsedMs, output } = await failedStart(url);
    console.log(`      connect | refused port | failed in ${elapsedMs} ms | ${(error as Error).message}`);
    expect(error, output).to.be.instanceOf(ConnectionError);
    expect((error as Error).message).to.contain('ECONNREFUSED');
    expect(((error as Error).cause as NodeJS.ErrnoException).code).to.equal('ECONNREFUSED');
    expect(occurrences((error as Error).message, 'amqp://'), 'the URL, once').to.equal(1);
    expect((error as Error).message, 'the URL is redacted').not.to.contain('guest:');
    expect(output).not.to.contain(PASSWORD);
    expect(elapsedMs, `failed after ${elapsedMs} ms`).to.be.at.most(6_000);
  });

  it('fails with a typed ConnectionError naming the unknown host within 2 s', async function () {
    this.timeout(20_000);
    const { error, elapsedMs, output } = await failedStart(`amqp://guest:${PASSWORD}@nonexistent.invalid:5672`);
    console.log(`      connect | unknown host | failed in ${elapsedMs} ms | ${(error as Error).message}`);
    expect(error, output).to.be.instanceOf(ConnectionError);
    expect((error as Error).message).to.match(/ENOTFOUND|EAI_AGAIN/);
    expect((error as Error).message).to.contain('nonexistent.invalid');
    expect(occurrences((error as Error).message, 'amqp://'), 'the URL, once').to.equal(1);
    expect((error as Error).message, 'the URL is redacted').not.to.contain('guest:');
    expect(output).not.to.contain(PASSWORD);
    expect(elapsedMs, `failed after ${elapsedMs} ms`).to.be.at.most(6_000);
  });

  it('fails with a typed ConnectionError, and no uncaught exception, when an HTTP server answers on the port', async function () {
    this.timeout(20_000);
    const http = await fakeServer((socket) => socket.once('data', () => socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n')));
    try {
      const { error, elapsedMs, output } = await failedStart(`amqp://guest:${PASSWORD}@127.0.0.1:${http.port}`);
      await sleep(500); // anything the client's reader would throw, it throws by now
      console.log(`      connect | HTTP server | failed in ${elapsedMs} ms | ${(error as Error).message}`);
      expect(uncaught, String(uncaught[0])).to.deep.equal([]);
      expect(error, output).to.be.instanceOf(ConnectionError);
      expect((error as Error).message).to.contain('not an AMQP 0-9-1 server').and.to.contain('HTTP/1.1 400');
      expect(output).not.to.contain(PASSWORD);
      expect(elapsedMs).to.be.at.most(6_000);
    } finally {
      await http.close();
    }
  });

  it('fails with a typed ConnectionError, and no uncaught exception, when a server writes garbage at once', async function () {
    this.timeout(20_000);
    const garbage = await fakeServer((socket) => socket.write(Buffer.concat([Buffer.from([0xff, 0x50, 0x2f, 0x31, 0x2e, 0x31, 0x20]), randomBytes(64)])));
    try {
      const { error, elapsedMs, output } = await failedStart(`amqp://guest:${PASSWORD}@127.0.0.1:${garbage.port}`);
      await sleep(500);
      console.log(`      connect | garbage server | failed in ${elapsedMs} ms | ${(error as Error).message}`);
      expect(uncaught, String(uncaught[0])).to.deep.equal([]);
      expect(error, output).to.be.instanceOf(ConnectionError);
      expect((error as Error).message).to.contain('not an AMQP 0-9-1 server');
      expect(elapsedMs).to.be.at.most(6_000);
    } finally {
      await garbage.close();
    }
  });
});

describeWithBroker('Connecting: refused credentials', () => {
  it('fails a wrong password as ACCESS_REFUSED within 2 s', async function () {
    this.timeout(20_000);
    const url = new URL(AMQP_URL);
    url.password = PASSWORD;
    const { error, elapsedMs, output } = await failedStart(url.toString());
    console.log(`      connect | wrong password | failed in ${elapsedMs} ms | ${(error as Error).message}`);
    expect(error, output).to.be.instanceOf(ConnectionError);
    expect((error as ConnectionError).code).to.equal('ACCESS_REFUSED');
    expect(output).not.to.contain(PASSWORD);
    expect(elapsedMs, `failed after ${elapsedMs} ms`).to.be.at.most(6_000);
  });
});

describeWithBroker('Connecting: waitForBroker', () => {
  let broker: ScratchBroker | undefined;
  let app: Warren | undefined;
  before(function () {
    if (!scratchNodesAvailable()) {
      if (process.env.CI === 'true') throw new Error('Fault tests need rabbitmq-server installed to start scratch nodes (CI=true).');
      this.skip();
    }
  });
  after(async function () {
    this.timeout(60_000);
    await app?.close();
    await broker?.stop();
  });

  it('starts unready while the broker is down, then attaches its consumers when a broker comes up on the port', async function () {
    this.timeout(120_000);
    const [port] = await freePorts(1);
    const ledger = new Ledger('waitForBroker');
    const { exchange, env } = scenarioNames();
    const logger = new RecordingLogger();
    const scope = container.createChildContainer();
    scope.registerInstance(Ledger, ledger);
    const started = Date.now();
    app = await Warren.start({ url: `amqp://guest:guest@127.0.0.1:${port}`, waitForBroker: true, handlers: [TickHandlers], container: scope, env, logger, telemetry: false });
    const startMs = Date.now() - started;
    await sleep(1_000);
    const before = app.health();
    expect(before.status).to.equal('down');
    expect(before.consumers.every((c) => !c.attached)).to.equal(true);
    expect(before.lastError).to.contain('ECONNREFUSED');
    const booting = Date.now();
    broker = await ScratchBroker.start({ port });
    const bootMs = Date.now() - booting;
    const upMs = await eventually('the app is up on the new broker', () => app!.health().status === 'up', 60_000);
    await publishAll(app, ledger, { exchange, routingKey: 'tick', prefix: 'late', count: 100 });
    await eventually('every message is handled', () => ledger.lost().length === 0);
    console.log(`      connect | waitForBroker | start() resolved in ${startMs} ms | broker boot ${bootMs} ms | up ${upMs} ms after the boot returned | handled ${ledger.handled.size}`);
    expect(ledger.handled.size).to.equal(100);
    expect(logger.said('waiting for the broker')).to.equal(true);
    expect(startMs).to.be.at.most(3_000);
  });
});
