import 'reflect-metadata';
import { expect } from 'chai';
import type { Warren } from '../../src';
import { AmqpTransport } from '../../src';
import { AMQP_URL, describeWithBroker } from '../support/broker';
import { afterCleanup } from '../support/cleanup';
import { eventually, Ledger, publishAll } from './ledger';
import { RecordingLogger, scenarioNames, startService } from './service';
import { TcpProxy } from './tcp-proxy';

/** What an HTTP server answers to the AMQP protocol header; rabbitmq-client would read "P/1." as a 1.3 GB frame. */
const HTTP_ANSWER = Buffer.from('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');

describeWithBroker('Reconnecting to an address that no longer answers as a broker', () => {
  let proxy: TcpProxy;
  let app: Warren | undefined;
  let queues: string[] = [];
  const uncaught: unknown[] = [];
  const record = (error: unknown) => { uncaught.push(error); };

  beforeEach(() => { uncaught.length = 0; process.prependListener('uncaughtException', record); });
  afterEach(() => { process.removeListener('uncaughtException', record); });
  afterCleanup('close the app and the proxy, delete the queues', async () => {
    proxy?.impersonate(undefined);
    await app?.close();
    await proxy?.close();
    const admin = new AmqpTransport({ url: AMQP_URL });
    await admin.connect();
    for (const queue of queues) await admin.deleteQueue(queue).catch(() => undefined);
    await admin.close();
  });

  it('probes before every reconnect: a non-AMQP peer is a typed error in the log and the health report, never an uncaught exception, and it reconnects once the broker answers', async function () {
    this.timeout(90_000);
    const target = new URL(AMQP_URL);
    proxy = new TcpProxy({ host: target.hostname, port: Number(target.port || 5672) });
    const port = await proxy.listen();
    const url = `amqp://${target.username}:${target.password}@127.0.0.1:${port}${target.pathname}`;
    const logger = new RecordingLogger();
    const ledger = new Ledger('reconnect to an impostor');
    const names = scenarioNames();
    app = await startService(url, ledger, names.env, { logger });
    queues = app.consumers.flatMap((c) => c.topology.queues?.map((q) => q.name) ?? []);

    // The broker goes away and an HTTP server takes its port.
    proxy.impersonate(HTTP_ANSWER);
    const dropped = Date.now();
    const from = logger.lines.length;
    proxy.dropOpenConnections();
    await eventually('the reconnect is refused with a typed error in the log', () => logger.said('not reconnecting'), 30_000);
    const heldMs = logger.firstSaid('not reconnecting', from)! - dropped;
    const attemptsBefore = proxy.accepted;
    await eventually('the client has tried the impostor again', () => proxy.accepted >= attemptsBefore + 2, 30_000);
    expect(uncaught, String(uncaught[0])).to.deep.equal([]);
    const health = app.health();
    expect(health.status).to.equal('down');
    expect(health.lastError).to.contain('not an AMQP 0-9-1 server').and.to.contain('HTTP/1.1 400');
    const line = logger.lines.find((l, i) => i >= from && l.includes('not reconnecting'))!;
    expect(line).to.match(/^error /);
    expect(line).not.to.contain(target.password || 'guest:guest');

    // The broker is back: it reconnects, consumes and publishes.
    proxy.impersonate(undefined);
    const back = Date.now();
    await eventually('the service is up again', () => app!.health().status === 'up', 60_000);
    const recoveredMs = Date.now() - back;
    await publishAll(app, ledger, { exchange: names.exchange, routingKey: 'tick', prefix: 'after', count: 20 });
    await eventually('every message is handled', () => ledger.lost().length === 0, 15_000);
    expect(uncaught, String(uncaught[0])).to.deep.equal([]);
    console.log(`      reconnect probe | typed error ${heldMs} ms after the drop | ${proxy.accepted} connections accepted by the proxy | up again ${recoveredMs} ms after the broker came back`);
  });
});
