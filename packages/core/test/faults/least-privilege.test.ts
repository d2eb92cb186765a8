import 'reflect-metadata';
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { container } from 'tsyringe';
import { ConnectionError, TopologyError, Warren, type WarrenOptions } from '../../src';
import { uniqueName } from '../support/broker';
import { eventually } from './ledger';
import { Shipments, Shipped, ShipmentHandlers } from './least-privilege-service';
import { describeOnScratchBroker } from './scratch-suite';
import { RecordingLogger } from './service';

const VHOST = 'warren-least-privilege';
const PASSWORD = 'Least-S3cret-Pa55';
/** The CLI, built alongside core in this repository. */
const CLI = join(__dirname, '../../../../cli/dist/src/bin.js');

/** `warren topology <entry> --print --vhost <vhost>`, run as an administrator would. */
function printDefinitions(entry: string, env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CLI, 'topology', entry, '--print', '--vhost', VHOST], { env: { ...process.env, ...env }, timeout: 30_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`warren topology --print failed: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

describeOnScratchBroker('Under faults: a user without configure permission', {}, (broker) => {
  let dir: string;
  const apps: Warren[] = [];

  before(async function () {
    this.timeout(60_000);
    dir = mkdtempSync(join(tmpdir(), 'warren-least-'));
    await broker().ctl('add_vhost', VHOST);
    await broker().ctl('add_user', 'warren-least', PASSWORD);
    // May publish and consume, but declare nothing.
    await broker().ctl('set_permissions', '-p', VHOST, 'warren-least', '^$', '.*', '.*');
    await broker().ctl('set_permissions', '-p', VHOST, 'guest', '.*', '.*', '.*');
  });
  after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });
  afterEach(async function () {
    this.timeout(30_000);
    for (const app of apps.splice(0)) await app.close();
  });

  const url = () => `amqp://warren-least:${PASSWORD}@127.0.0.1:${broker().port}/${VHOST}`;
  const names = () => {
    const prefix = uniqueName('least');
    return { EX: `${prefix}.ex`, Q: prefix };
  };
  function options(env: Record<string, string>, extra: Partial<WarrenOptions> = {}): WarrenOptions & { shipped: Shipped } {
    const shipped = new Shipped();
    const scope = container.createChildContainer();
    scope.registerInstance(Shipped, shipped);
    return { url: url(), handlers: [ShipmentHandlers], publishers: [Shipments], env, container: scope, logger: new RecordingLogger(), telemetry: false, shipped, ...extra };
  }

  it('is refused with ACCESS_REFUSED when it declares (the default)', async function () {
    this.timeout(20_000);
    const error = await Warren.start(options(names())).then((app) => app.close(), (e: unknown) => e);
    expect(error).to.be.instanceOf(ConnectionError);
    expect((error as ConnectionError).code).to.equal('ACCESS_REFUSED');
  });

  it('with declare: false, fails with one TopologyError listing everything missing', async function () {
    this.timeout(20_000);
    const started = Date.now();
    const error = await Warren.start(options(names(), { declare: false })).then((app) => app.close(), (e: unknown) => e);
    const elapsedMs = Date.now() - started;
    expect(error, String(error)).to.be.instanceOf(TopologyError);
    const message = (error as Error).message;
    const listed = message.split('\n').filter((line) => line.startsWith('  - '));
    console.log(`      least privilege | missing topology reported in ${elapsedMs} ms | ${listed.length} items`);
    // Four exchanges (the consumer's, the dead-letter exchange, the delay cascade's delivery and
    // unroutable exchanges), five queues (its own, .dlq, its .retry hop, .redelivered, the
    // unroutable queue) and one line for the 64 exchanges and queues of the classic delay cascade.
    expect(listed, message).to.have.length(10);
    expect(message).to.contain('64 of the 64 exchanges and queues of the classic delay cascade');
    expect(message).to.contain('warren.dead-letter').and.contain('.shipments.redelivered').and.contain('--print');
    expect(message).not.to.contain(PASSWORD);
  });

  it('with declare: false, runs on the topology an administrator imported from warren topology --print', async function () {
    this.timeout(60_000);
    const env = names();
    const definitions = await printDefinitions(join(__dirname, 'least-privilege-service.js'), env);
    const file = join(dir, `${env.Q}.json`);
    writeFileSync(file, definitions);
    const parsed = JSON.parse(definitions) as { exchanges: unknown[]; queues: unknown[]; bindings: unknown[] };
    await broker().ctl('import_definitions', file);
    console.log(`      least privilege | imported ${parsed.exchanges.length} exchanges, ${parsed.queues.length} queues, ${parsed.bindings.length} bindings`);

    const opts = options(env, { declare: false });
    const app = await Warren.start(opts);
    apps.push(app);
    await app.get(Shipments).created({ id: 's1' });
    await app.get(Shipments).created({ id: 'fail-1' });
    await eventually('the good shipment is handled', () => opts.shipped.ids.includes('s1'), 10_000);
    // The failing one went through the delay cascade and ended in the dead-letter queue: no declaration needed.
    await eventually('the failing shipment is dead-lettered', async () => (await app.transport.inspectQueue(`${env.Q}.shipments.dlq`)).messageCount === 1, 10_000);
    const logger = opts.logger as RecordingLogger;
    expect(logger.lines.join('\n')).not.to.match(/ACCESS_REFUSED/);
  });
});
