import 'reflect-metadata';
import { expect } from 'chai';
import { container } from 'tsyringe';
import { Consumer, DEFAULT_CONSUMER_SETTINGS, delayCascadeTopology, getConsumers, MemoryTransport, planConsumer, TopologyError, Warren, type WarrenOptions } from '../src';
import { RecordingLogger } from './faults/service';
import { Shipments, Shipped, ShipmentHandlers } from './faults/least-privilege-service';
import { until } from './support/until';

const env = { EX: 'shipping', Q: 'shipping' };

function options(transport: MemoryTransport, extra: Partial<WarrenOptions> = {}): WarrenOptions {
  const scope = container.createChildContainer();
  scope.registerInstance(Shipped, new Shipped());
  return { transport, handlers: [ShipmentHandlers], publishers: [Shipments], env, container: scope, logger: new RecordingLogger(), telemetry: false, ...extra };
}

async function startError(opts: WarrenOptions): Promise<unknown> {
  return Warren.start(opts).then((app) => app.close().then(() => undefined), (error: unknown) => error);
}

class Audits {
  @Consumer('audit', 'entry', { queue: 'audit.entries', declare: false, message: Object })
  async entry(_entry: unknown) {}
}

describe('declare: false (least privilege)', () => {
  it('fails at start with one TopologyError listing every missing exchange and queue, and declares nothing', async () => {
    const transport = new MemoryTransport();
    const error = await startError(options(transport, { declare: false }));
    expect(error).to.be.instanceOf(TopologyError);
    const message = (error as Error).message;
    for (const name of ['exchange "shipping"', 'exchange "warren.dead-letter"', 'queue "shipping.shipments"', 'queue "shipping.shipments.dlq"', 'queue "shipping.shipments.retry"', 'queue "shipping.shipments.redelivered"', 'exchange "warren.delay.deliver"', '64 of the 64 exchanges and queues of the classic delay cascade']) {
      expect(message).to.contain(name);
    }
    expect(message).to.contain('warren topology').and.contain('--print');
    const check = new MemoryTransport();
    await check.connect();
    expect(await check.inspectQueue('shipping.shipments').then(() => true, () => false), 'a declare-false start declared its queue').to.equal(false);
    await check.close();
  });

  it('starts, consumes, publishes, retries and dead-letters on a topology an administrator created', async () => {
    const transport = new MemoryTransport();
    await transport.connect();
    // The administrator's part: what `warren topology --print` lists, created with full rights.
    const plan = planConsumer(getConsumers(ShipmentHandlers)[0]!, DEFAULT_CONSUMER_SETTINGS, env);
    await transport.declare(plan.topology);
    await transport.declare(delayCascadeTopology('classic'));
    const opts = options(transport, { declare: false });
    const app = await Warren.start(opts);
    try {
      await app.get(Shipments).created({ id: 's1' });
      await app.get(Shipments).created({ id: 'fail-1' });
      const shipped = opts.container!.resolve(Shipped);
      await until(() => shipped.ids.includes('s1'));
      await until(async () => (await transport.inspectQueue('shipping.shipments.dlq')).messageCount === 1);
    } finally {
      await app.close();
    }
  });

  it('checks only the consumers and publishers that say declare: false when the app declares', async () => {
    const transport = new MemoryTransport();
    const error = await startError({ ...options(transport), handlers: [ShipmentHandlers, Audits] });
    expect(error).to.be.instanceOf(TopologyError);
    const message = (error as Error).message;
    expect(message).to.contain('exchange "audit" (needed by Audits.entry)').and.contain('queue "audit.entries"');
    expect(message).not.to.contain('shipping');
  });
});
