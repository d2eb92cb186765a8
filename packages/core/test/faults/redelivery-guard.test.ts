import 'reflect-metadata';
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AmqpTransport, Warren, type FetchedMessage } from '../../src';
import { AMQP_URL, describeWithBroker } from '../support/broker';
import { eventually, Ledger, publishAll } from './ledger';
import { RecordingLogger, scenarioNames } from './service';

const LIMIT = 3;

// A service process dies; the broker does not: runs on the shared broker, like the SIGTERM test.
describeWithBroker('Under faults: a message that kills its process', function () {
  let dir: string;
  let child: ChildProcess | undefined;
  const apps: Warren[] = [];
  let admin: AmqpTransport;

  before(async () => {
    admin = new AmqpTransport({ url: AMQP_URL });
    await admin.connect();
  });
  after(() => admin?.close());
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'warren-crash-')); });
  afterEach(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const app of apps.splice(0)) await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const queueType of ['classic', 'quorum'] as const) {
    it(`is dead-lettered with REDELIVERY_LIMIT after ${LIMIT + 1} deaths on a ${queueType} queue, and nothing else is lost`, async function () {
      this.timeout(120_000);
      const ledger = new Ledger(`process.exit in a handler, ${queueType} queue`);
      const { exchange, queue, env } = scenarioNames();
      const handledFile = join(dir, 'handled');
      const handledByServices = () => (existsSync(handledFile) ? readFileSync(handledFile, 'utf8').split('\n').filter(Boolean) : []);
      const publisher = await Warren.start({ url: AMQP_URL, logger: new RecordingLogger(), telemetry: false });
      apps.push(publisher);

      /** One life of the service: its exit code, or 'running' once `done()` holds (then it is stopped). */
      const live = async (done: () => Promise<boolean>, onReady?: () => Promise<void>): Promise<{ code: number | null | 'running'; output: string }> => {
        let output = '';
        const service = spawn(process.execPath, [join(__dirname, 'crashing-service.js')], {
          env: { ...process.env, AMQP_URL, ...env, QUEUE_TYPE: queueType, REDELIVERY_LIMIT: String(LIMIT), HANDLED_FILE: handledFile, WARREN_LOG_LEVEL: 'warn' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        child = service;
        service.stdout!.on('data', (d: Buffer) => { output += d.toString(); });
        service.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
        const exited = new Promise<number | null>((resolve) => service.once('exit', (code) => resolve(code)));
        if (onReady) {
          await eventually('the first service is ready', () => output.includes('ready\n') || service.exitCode !== null, 20_000);
          await onReady();
        }
        const result = await Promise.race([
          exited.then((code) => ({ code, output })),
          eventually('the poison message is dead-lettered and every message handled', done, 60_000).then(() => ({ code: 'running' as const, output })),
        ]).catch((error: Error) => { throw new Error(`${error.message}; lost ${ledger.lost().length}; service output:\n${output.slice(-3000)}`); });
        if (result.code === 'running') {
          service.kill('SIGTERM');
          await exited;
        }
        return result;
      };

      let deaths = 0;
      let deadLetter: FetchedMessage | undefined;
      const done = async () => {
        handledByServices().forEach((id) => ledger.handled.add(id));
        return ledger.lost().length === 0 && (await admin.inspectQueue(`${queue}.dlq`)).messageCount === 1;
      };
      // The first service declares the topology; the stream and the poison message go in once it is up.
      const publishStream = async () => {
        await publishAll(publisher, ledger, { exchange, routingKey: 'tick', prefix: 'a', count: 100 });
        await publisher.publish(exchange, 'tick', { id: 'poison' }, { messageId: 'poison' });
        await publishAll(publisher, ledger, { exchange, routingKey: 'tick', prefix: 'b', count: 100 });
      };
      for (let life = 0; life < LIMIT + 4; life++) {
        const { code, output } = await live(done, life === 0 ? publishStream : undefined);
        if (code === 'running') break;
        expect(code, `service exit code\n${output}`).to.equal(3);
        deaths++;
        // Innocent messages keep arriving between the deaths.
        await publishAll(publisher, ledger, { exchange, routingKey: 'tick', prefix: `after-death-${deaths}`, count: 20 });
      }
      await eventually('the dead letter can be fetched', async () => (deadLetter = await admin.get(`${queue}.dlq`)) !== undefined, 5_000);
      await deadLetter!.ack();
      const handled = handledByServices();
      ledger.deliveries = handled.length;
      for (const q of [queue, `${queue}.dlq`, `${queue}.redelivered`]) await admin.deleteQueue(q).catch(() => undefined);
      await admin.deleteExchange(exchange).catch(() => undefined);
      ledger.print({ deaths, 'dead-lettered': 1 });

      expect(deaths, 'process deaths before the message was dead-lettered').to.equal(LIMIT + 1);
      expect(deadLetter!.properties.messageId).to.equal('poison');
      expect(deadLetter!.properties.headers).to.include({ 'x-warren-error-code': 'REDELIVERY_LIMIT', 'x-warren-consumer': 'Jobs.tick', 'x-warren-original-queue': queue });
      expect(JSON.parse(deadLetter!.body.toString())).to.deep.equal({ id: 'poison' });
      expect(ledger.lost(), 'innocent messages not handled').to.deep.equal([]);
      expect(handled).not.to.include('poison');
    });
  }
});
