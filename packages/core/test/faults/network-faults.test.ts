import 'reflect-metadata';
import { expect } from 'chai';
import { eventually, Ledger, publishAll } from './ledger';
import { describeOnScratchBroker, useScratchAdmin } from './scratch-suite';
import { RecordingLogger, scenarioNames, startService } from './service';
import { TcpProxy } from './tcp-proxy';
import { afterCleanup } from '../support/cleanup';

/** Seconds; short, so a silent link is noticed in a few seconds. */
const HEARTBEAT_S = 2;

describeOnScratchBroker('Under faults: a bad network between service and broker', {}, (broker) => {
  // The admin connection goes straight to the broker: it must see the truth, not the proxy's.
  const { admin, apps } = useScratchAdmin(broker);
  let proxy: TcpProxy;
  let proxyUrl: string;

  before(async () => {
    proxy = new TcpProxy({ host: '127.0.0.1', port: broker().port });
    proxyUrl = `amqp://guest:guest@127.0.0.1:${await proxy.listen()}`;
  });
  afterCleanup('close the proxy', () => proxy?.close());
  afterEach(async () => {
    proxy.set({ kind: 'pass' });
  });

  async function serviceBehindProxy(ledger: Ledger, logger = new RecordingLogger()) {
    const names = scenarioNames();
    const service = await startService(proxyUrl, ledger, names.env, { heartbeat: HEARTBEAT_S, logger });
    apps.push(service);
    return { service, ...names };
  }

  it('loses nothing over a link that delays every byte by 50 ms', async function () {
    this.timeout(60_000);
    const ledger = new Ledger('50 ms delay');
    const { service, exchange } = await serviceBehindProxy(ledger);
    proxy.set({ kind: 'delay', delayMs: 50 });
    await publishAll(service, ledger, { exchange, routingKey: 'tick', prefix: 'slow', count: 2_000, inFlight: 64 });
    await eventually('every message is handled', () => ledger.lost().length === 0, 30_000);
    ledger.print();
    expect(ledger.lost()).to.deep.equal([]);
    expect(ledger.publishFailures).to.deep.equal([]);
  });

  it('decodes every frame when the link carries one byte at a time', async function () {
    this.timeout(60_000);
    const ledger = new Ledger('1-byte chunks');
    const { service, exchange } = await serviceBehindProxy(ledger);
    proxy.set({ kind: 'chunked' });
    await publishAll(service, ledger, { exchange, routingKey: 'tick', prefix: 'byte', count: 300, inFlight: 16 });
    await eventually('every message is handled', () => ledger.lost().length === 0, 30_000);
    ledger.print();
    expect(ledger.lost()).to.deep.equal([]);
    expect(ledger.publishFailures).to.deep.equal([]);
    expect(service.health().status).to.equal('up');
  });

  it('notices a silent link within the heartbeat window, reconnects, and loses nothing', async function () {
    this.timeout(60_000);
    const ledger = new Ledger(`blackhole, heartbeat ${HEARTBEAT_S} s`);
    const logger = new RecordingLogger();
    const { service, exchange, queue } = await serviceBehindProxy(ledger, logger);
    const publishing = publishAll(service, ledger, { exchange, routingKey: 'tick', prefix: 'bh', count: 3_000, inFlight: 8, retryPauseMs: 250 });
    await eventually('messages flow', () => ledger.handled.size >= 500);
    // The cable is cut: bytes vanish, no FIN, no RST. New connections get through (another route).
    proxy.blackholeOpenConnections();
    const noticedMs = await eventually('the service notices', () => logger.lines.filter((l) => l.includes('lost the broker connection')).length >= 2, 4 * HEARTBEAT_S * 1000, 10);
    const recoveredMs = await eventually('the consumer is back', async () =>
      (await admin().inspectQueue(queue)).consumerCount === 1 && service.health().status === 'up', 15_000) + noticedMs;
    await publishing;
    await eventually('every confirmed message is handled', () => ledger.lost().length === 0, 30_000);
    ledger.print({ 'noticed after ms': noticedMs, 'recovered after ms': recoveredMs, 'slowest publish ms': ledger.slowestPublishMs });
    // rabbitmq-client checks every heartbeat/2 and gives up after four silent checks (2–2.5
    // heartbeats); the window allowed here is three, for timer lag on a loaded machine.
    expect(noticedMs, 'noticed the silent link').to.be.at.most(3 * HEARTBEAT_S * 1000);
    expect(ledger.lost()).to.deep.equal([]);
    expect(ledger.untypedFailures()).to.deep.equal([]);
  });
});
