import 'reflect-metadata';
import { expect } from 'chai';
import { rmSync } from 'node:fs';
import { container, injectable, type DependencyContainer } from 'tsyringe';
import { ConnectionError, Consumer, TopologyError, Warren, type WarrenError, type WarrenOptions } from '../../src';
import { makeTestPki, type TestPki } from './certificates';
import { eventually, Ledger, publishAll } from './ledger';
import { sleep } from './scratch-broker';
import { describeOnScratchBroker } from './scratch-suite';
import { RecordingLogger, scenarioNames, startService, Tick, TickHandlers } from './service';
import { TcpProxy } from './tcp-proxy';
import { afterCleanup } from '../support/cleanup';

/** Passwords that must never show up in an error, a stack or a log line. */
const PASSWORDS = {
  tls: 'Tls-S3cret-Pa55w0rd',
  noVhost: 'NoVhost-S3cret-Pa55',
  noConfigure: 'NoConf-S3cret-Pa55',
  noRead: 'NoRead-S3cret-Pa55',
  wrong: 'Wr0ng-S3cret-Pa55',
  /** Unencoded in the URL: the userinfo is everything up to the last `@`. */
  hostile: 'p@ss/w#rd?%:@@S3cret',
};
const VHOST = 'warren-restricted';

let pki: TestPki;

describeOnScratchBroker('Under faults: refused access and TLS', () => {
  pki = makeTestPki();
  return { tls: { cacertfile: pki.caFile, certfile: pki.serverCertFile, keyfile: pki.serverKeyFile } };
}, (broker) => {
  let proxy: TcpProxy;
  let proxyPort: number;

  before(async function () {
    // Ten rabbitmqctl calls, each an Erlang VM of its own: over a minute on a 2-core machine at load 17.
    this.timeout(240_000);
    const ctl = (...args: string[]) => broker().ctl(...args);
    await ctl('add_user', 'warren-tls', PASSWORDS.tls);
    await ctl('set_permissions', '-p', '/', 'warren-tls', '.*', '.*', '.*');
    await ctl('add_vhost', VHOST);
    // Exists, but has no permissions at all on the vhost: the broker refuses connection.open.
    await ctl('add_user', 'warren-no-vhost', PASSWORDS.noVhost);
    // May publish and consume, but declare nothing.
    await ctl('add_user', 'warren-no-configure', PASSWORDS.noConfigure);
    await ctl('set_permissions', '-p', VHOST, 'warren-no-configure', '^$', '.*', '.*');
    // May declare and bind, and read from the exchanges, but not read its queues. RabbitMQ checks
    // read on a queue already when it is declared with a dead-letter exchange, as Warren's are.
    await ctl('add_user', 'warren-no-read', PASSWORDS.noRead);
    await ctl('set_permissions', '-p', VHOST, 'warren-no-read', '.*', '.*', '^(warren-test\\.fault-ex\\..*|warren\\.dead-letter)$');
    await ctl('add_user', 'warren-hostile', PASSWORDS.hostile);
    await ctl('set_permissions', '-p', '/', 'warren-hostile', '.*', '.*', '.*');
    proxy = new TcpProxy({ host: '127.0.0.1', port: broker().port });
    proxyPort = await proxy.listen();
  });

  afterCleanup('close the proxy, delete the PKI', async () => {
    await proxy?.close();
    if (pki) rmSync(pki.dir, { recursive: true, force: true });
  });

  /** Starts a service that must fail; returns the error, how long it took, and everything it printed. */
  async function failedStart(url: string, extra: Partial<WarrenOptions> = {}): Promise<{ error: unknown; elapsedMs: number; output: string }> {
    const logger = new RecordingLogger();
    const { env } = scenarioNames();
    const started = Date.now();
    let error: unknown;
    try {
      const app = await Warren.start({ url, handlers: [TickHandlers], env, logger, telemetry: false, container: ledgerScope(), ...extra });
      await app.close();
    } catch (e) {
      error = e;
    }
    const elapsedMs = Date.now() - started;
    const causes: string[] = [];
    for (let e = error as { message?: unknown; stack?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
      causes.push(String(e.message), String(e.stack));
    }
    return { error, elapsedMs, output: [...causes, ...logger.lines].join('\n') };
  }

  /** Asserts a refusal was typed, quick, quiet about passwords, and not followed by reconnect attempts. */
  async function expectRefused(url: string, password: string, label: string): Promise<void> {
    const acceptedBefore = proxy.accepted;
    const { error, elapsedMs, output } = await failedStart(url);
    expect(error, output).to.be.instanceOf(ConnectionError);
    expect((error as ConnectionError).code).to.equal('ACCESS_REFUSED');
    expect(elapsedMs, `refused after ${elapsedMs} ms`).to.be.at.most(1_000);
    expect(output).not.to.contain(password);
    const connections = proxy.accepted - acceptedBefore;
    // The service gave up: its connections are closed and it does not come back for more.
    await eventually('the refused service has closed its connections', () => proxy.open === 0, 5_000);
    await sleep(2_000);
    expect(proxy.accepted - acceptedBefore, 'connections opened after the refusal').to.equal(connections);
    // The protocol-header probe (probe.ts), then the consuming and the publishing connection.
    expect(connections).to.be.at.most(3);
    console.log(`      ledger | ${label} | refused in ${elapsedMs} ms | TCP connections ${connections} | code ${(error as ConnectionError).code} | ${(error as Error).message.slice(0, 160)}`);
  }

  const viaProxy = (user: string, password: string, vhost = VHOST) => `amqp://${user}:${password}@127.0.0.1:${proxyPort}/${encodeURIComponent(vhost)}`;

  it('refuses a wrong password with a typed ACCESS_REFUSED within a second, without retrying', async function () {
    this.timeout(15_000);
    await expectRefused(viaProxy('warren-tls', PASSWORDS.wrong, '/'), PASSWORDS.wrong, 'wrong password');
  });

  it('refuses a user without access to the vhost with a typed ACCESS_REFUSED within a second, without retrying', async function () {
    this.timeout(15_000);
    await expectRefused(viaProxy('warren-no-vhost', PASSWORDS.noVhost), PASSWORDS.noVhost, 'no vhost access');
  });

  it('refuses a declaration the user may not make with a typed ACCESS_REFUSED within a second, without retrying', async function () {
    this.timeout(15_000);
    await expectRefused(viaProxy('warren-no-configure', PASSWORDS.noConfigure), PASSWORDS.noConfigure, 'no configure permission');
  });

  it('refuses a user who may not read its queues with a typed ACCESS_REFUSED within a second, without retrying', async function () {
    this.timeout(15_000);
    await expectRefused(viaProxy('warren-no-read', PASSWORDS.noRead), PASSWORDS.noRead, 'no read permission');
  });

  it('connects with a password holding @ / # ? % : unencoded, and shows it nowhere: logs, description, /healthz', async function () {
    this.timeout(20_000);
    const ledger = new Ledger('hostile password');
    const { env } = scenarioNames();
    const logger = new RecordingLogger();
    const url = `amqp://warren-hostile:${PASSWORDS.hostile}@127.0.0.1:${broker().port}/`;
    const service = await startService(url, ledger, env, { logger, health: { port: 0 } });
    try {
      const address = service.healthAddress as { address: string; port: number };
      expect(address.address, 'the health server binds loopback by default').to.equal('127.0.0.1');
      const response = await fetch(`http://127.0.0.1:${address.port}/healthz`, { signal: AbortSignal.timeout(5_000) });
      const body = await response.text();
      expect(response.status).to.equal(200);
      expect(JSON.parse(body).transport).to.equal(`rabbitmq amqp://127.0.0.1:${broker().port}/`);
      expect(service.transport.description).to.equal(`rabbitmq amqp://127.0.0.1:${broker().port}/`);
      const everything = [body, service.transport.description, ...logger.lines].join('\n');
      for (const fragment of [PASSWORDS.hostile, 'S3cret', 'warren-hostile:', 'p@ss']) expect(everything, fragment).not.to.contain(fragment);
      console.log(`      ledger | hostile password | connected | /healthz ${body.length} bytes, no userinfo | log lines ${logger.lines.length}`);
    } finally {
      await service.close();
    }
    const wrong = await failedStart(`amqp://warren-hostile:${PASSWORDS.hostile}x@127.0.0.1:${broker().port}/`);
    expect(wrong.error).to.be.instanceOf(ConnectionError);
    for (const fragment of [PASSWORDS.hostile, 'S3cret', 'p@ss']) expect(wrong.output, fragment).not.to.contain(fragment);
  });

  it('fails at once with a typed error when its exclusive queue belongs to another connection', async function () {
    this.timeout(15_000);
    const { env } = scenarioNames();
    const owner = await Warren.start({ url: broker().url, handlers: [ExclusiveTicks], env, logger: new RecordingLogger(), telemetry: false, container: ledgerScope() });
    try {
      const started = Date.now();
      let error: unknown;
      try {
        await (await Warren.start({ url: broker().url, handlers: [ExclusiveTicks], env, logger: new RecordingLogger(), telemetry: false, container: ledgerScope() })).close();
      } catch (e) {
        error = e;
      }
      const elapsedMs = Date.now() - started;
      console.log(`      ledger | exclusive queue taken | refused in ${elapsedMs} ms | ${(error as WarrenError)?.code}`);
      expect(error).to.be.instanceOf(TopologyError);
      expect((error as Error).message).to.contain('RESOURCE_LOCKED');
      // Not the subscribe timeout (10 s) of a consumer retrying in the background.
      expect(elapsedMs).to.be.at.most(1_000);
    } finally {
      await owner.close();
    }
  });

  it('connects over TLS to a broker whose certificate the trusted CA signed', async function () {
    this.timeout(20_000);
    const ledger = new Ledger('TLS, trusted CA');
    const { exchange, env } = scenarioNames();
    const logger = new RecordingLogger();
    const service = await startService(`amqps://warren-tls:${PASSWORDS.tls}@localhost:${broker().tlsPort}`, ledger, env, { tls: { ca: pki.ca }, logger });
    try {
      await publishAll(service, ledger, { exchange, routingKey: 'tick', prefix: 'tls', count: 100 });
      await eventually('every message is handled', () => ledger.lost().length === 0);
    } finally {
      await service.close();
    }
    ledger.print();
    expect(ledger.handled.size).to.equal(100);
    expect(logger.lines.join('\n')).not.to.contain(PASSWORDS.tls);
  });

  it('refuses a broker certificate signed by an unknown CA', async function () {
    this.timeout(15_000);
    const { error, elapsedMs, output } = await failedStart(`amqps://warren-tls:${PASSWORDS.tls}@localhost:${broker().tlsPort}`, { tls: { ca: pki.strangerCa } });
    expect(error, output).to.be.instanceOf(ConnectionError);
    expect((error as Error).message).to.match(/certificate/i);
    expect(output).not.to.contain(PASSWORDS.tls);
    console.log(`      ledger | TLS, unknown CA | refused in ${elapsedMs} ms | ${(error as ConnectionError).code}`);
  });

  it('refuses a broker certificate issued for another host name', async function () {
    this.timeout(15_000);
    // The certificate names only DNS:localhost; 127.0.0.1 is the same socket under another name.
    const { error, elapsedMs, output } = await failedStart(`amqps://warren-tls:${PASSWORDS.tls}@127.0.0.1:${broker().tlsPort}`, { tls: { ca: pki.ca } });
    expect(error, output).to.be.instanceOf(ConnectionError);
    expect((error as Error).message).to.match(/ERR_TLS_CERT_ALTNAME_INVALID|altnames/i);
    expect(output).not.to.contain(PASSWORDS.tls);
    console.log(`      ledger | TLS, wrong host name | refused in ${elapsedMs} ms | ${(error as ConnectionError).code}`);
  });
});

/** A consumer of an exclusive queue: one connection at a time may hold it. */
@injectable()
class ExclusiveTicks {
  @Consumer('${EX}', 'tick', { queue: '${Q}.exclusive', exclusive: true })
  async tick(_tick: Tick): Promise<void> {}
}

/** A container where TickHandlers can resolve its Ledger (these services are never meant to run). */
function ledgerScope(): DependencyContainer {
  const scope = container.createChildContainer();
  scope.registerInstance(Ledger, new Ledger('refused'));
  return scope;
}
