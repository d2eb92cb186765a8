import { join } from 'node:path';
import { expect } from 'chai';
import { AmqpTransport, MemoryTransport, PublishError, PublishTimeoutError, Warren, type LogFields, type Logger, type Transport } from '@warren/core';
import { Pool } from 'pg';
import { container } from 'tsyringe';
import type * as BrokerSupport from '../../core/test/support/broker';
import { applySchema, Outbox, OutboxRelay } from '../src';
import { AcceptedSink, OrderEvents } from './fixtures';
import { describeWithPostgres, PG_CONFIG, requirePostgres, TestSchema, within } from './support/postgres';

// Core's broker fixture, from its compiled tests (core's package exports only its public API).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { AMQP_URL, describeWithBroker, uniqueName } = require(join(__dirname, '../../../core/dist/test/support/broker')) as typeof BrokerSupport;

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A logger that keeps what it was told. */
function recordingLogger(): Logger & { lines: Array<{ level: string; message: string; fields?: LogFields }> } {
  const lines: Array<{ level: string; message: string; fields?: LogFields }> = [];
  const at = (level: string) => (message: string, fields?: LogFields) => { lines.push({ level, message, fields }); };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

describeWithBroker('Outbox relay: a row the broker keeps refusing is parked', function () {
  this.timeout(30_000);
  let pool: Pool;
  let schema: TestSchema;
  let outbox: Outbox;
  let app: Warren;
  let admin: AmqpTransport;
  let exchange: string;
  const relays: OutboxRelay[] = [];

  before(async function () {
    await requirePostgres(this);
    admin = new AmqpTransport({ url: AMQP_URL });
    await admin.connect();
  });

  after(async () => { await within(10_000, admin?.close() ?? Promise.resolve(), 'closing the admin connection').catch(() => undefined); });

  beforeEach(async () => {
    pool = new Pool({ ...PG_CONFIG, max: 4 });
    schema = await within(10_000, TestSchema.create(pool), 'creating the test schema');
    await within(10_000, applySchema(pool, schema), 'applying the schema');
    outbox = new Outbox({ pool, outboxTable: schema.outboxTable });
    exchange = uniqueName('outbox-parking');
    app = await Warren.start({ url: AMQP_URL, env: { EX: exchange }, handlers: [AcceptedSink], publishers: [OrderEvents], logger: recordingLogger(), telemetry: false, container: container.createChildContainer() });
  });

  afterEach(async () => {
    await within(10_000, Promise.all(relays.splice(0).map((r) => r.close())), 'closing relays').catch(() => undefined);
    await within(10_000, app?.close() ?? Promise.resolve(), 'closing the app').catch(() => undefined);
    for (const queue of (app?.consumers ?? []).flatMap((c) => c.topology.queues?.map((q) => q.name) ?? [])) await admin.deleteQueue(queue).catch(() => undefined);
    await admin.deleteExchange(exchange).catch(() => undefined);
    await within(10_000, schema.drop(), 'dropping the test schema').catch(() => undefined);
    await within(10_000, pool.end(), 'closing the pool').catch(() => undefined);
  });

  const relay = (options: Partial<ConstructorParameters<typeof OutboxRelay>[1]> = {}) => {
    const r = new OutboxRelay(outbox, { transport: app.transport, pollIntervalMs: 50, maxBackoffMs: 1, ...options });
    relays.push(r);
    return r;
  };
  const rows = async () => (await pool.query(`SELECT * FROM ${schema.outboxTable} ORDER BY id`)).rows;
  const writeUnroutableThenRoutable = () => outbox.transaction(async (tx) => {
    const events = app.get(OrderEvents);
    await tx.publish(events.accepted, { orderId: 'x-1' }, { orderingKey: 'x', routingKey: 'nobody.listens', mandatory: true, messageId: 'unroutable-1' });
    await tx.publish(events.accepted, { orderId: 'x-2' }, { orderingKey: 'x' });
  });

  it('parks an unroutable row after maxRefusals returns, with the reason; logs it, counts it, its ordering key goes on, and it can be discarded', async () => {
    await writeUnroutableThenRoutable();
    const logger = recordingLogger();
    const r = relay({ maxRefusals: 3, logger });
    let rounds = 0;
    await until(async () => { rounds++; await r.relayOnce(); return app.get(AcceptedSink).received.length === 1; });
    const [first, second] = await rows();
    expect(first.parked_at, 'parked').to.be.instanceOf(Date);
    expect(first.sent_at).to.equal(null);
    expect(first.refusals).to.equal(3);
    expect(first.last_error).to.match(/No queue is bound/);
    expect(second.sent_at).to.be.instanceOf(Date);
    expect(app.get(AcceptedSink).received.map((m) => m.orderId)).to.deep.equal(['x-2']);
    expect(r.parked).to.equal(1);
    expect(await outbox.parked.count()).to.equal(1);
    expect((await outbox.parked.list()).map((p) => [p.messageId, p.refusals])).to.deep.equal([['unroutable-1', 3]]);
    const line = logger.lines.find((l) => l.message.includes('parked'));
    expect(line?.level).to.equal('error');
    expect(line?.fields).to.include({ messageId: 'unroutable-1', refusals: 3, exchange });
    // Parked is final: later rounds leave it alone.
    for (let i = 0; i < 3; i++) await r.relayOnce();
    expect((await rows())[0].refusals).to.equal(3);
    // Given up on for good: discarded.
    expect(await outbox.parked.discard()).to.equal(1);
    expect((await rows()).map((row) => row.properties.messageId)).not.to.include('unroutable-1');
    console.log(`      parked after ${rounds} relay rounds`);
  });

  it('sends a parked row after it is released, once a queue is bound for it', async () => {
    await writeUnroutableThenRoutable();
    const r = relay({ maxRefusals: 1 });
    await until(async () => { await r.relayOnce(); return app.get(AcceptedSink).received.length === 1; });
    expect(await outbox.parked.count()).to.equal(1);
    await admin.declare({ bindings: [{ exchange, queue: `${exchange}.accepted`, routingKey: 'nobody.listens' }] });
    expect(await outbox.parked.release()).to.equal(1);
    expect(await outbox.parked.count()).to.equal(0);
    await until(async () => { await r.relayOnce(); return app.get(AcceptedSink).received.length === 2; });
    expect(app.get(AcceptedSink).received.map((m) => m.orderId)).to.deep.equal(['x-2', 'x-1']);
    expect((await rows()).every((row) => row.sent_at instanceof Date)).to.equal(true);
  });
});

describeWithPostgres('Outbox relay: which failures park a row', function () {
  this.timeout(30_000);
  let pool: Pool;
  let schema: TestSchema;
  let outbox: Outbox;
  let app: Warren;

  beforeEach(async () => {
    pool = new Pool({ ...PG_CONFIG, max: 4 });
    schema = await within(10_000, TestSchema.create(pool), 'creating the test schema');
    await within(10_000, applySchema(pool, schema), 'applying the schema');
    outbox = new Outbox({ pool, outboxTable: schema.outboxTable });
    app = await Warren.start({ transport: new MemoryTransport(), env: { EX: uniqueName('outbox-kinds') }, handlers: [AcceptedSink], publishers: [OrderEvents], logger: recordingLogger(), telemetry: false, container: container.createChildContainer() });
    await outbox.transaction((tx) => tx.publish(app.get(OrderEvents).accepted, { orderId: 'k-1' }));
  });

  afterEach(async () => {
    await within(10_000, app?.close() ?? Promise.resolve(), 'closing the app').catch(() => undefined);
    await within(10_000, schema.drop(), 'dropping the test schema').catch(() => undefined);
    await within(10_000, pool.end(), 'closing the pool').catch(() => undefined);
  });

  const failingWith = (error: Error) => ({ publish: async () => { throw error; } }) as unknown as Transport;
  const row = async () => (await pool.query(`SELECT attempts, refusals, parked_at FROM ${schema.outboxTable}`)).rows[0];

  it('never parks a row whose publishes fail for a reason waiting can cure (a confirm timeout, a lost connection)', async () => {
    const r = new OutboxRelay(outbox, { transport: failingWith(new PublishTimeoutError('x', 'y', 10)), maxRefusals: 1, maxBackoffMs: 1 });
    for (let i = 0; i < 3; i++) {
      await r.relayOnce();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(await row()).to.deep.include({ attempts: 3, refusals: 0, parked_at: null });
    expect(r.parked).to.equal(0);
  });

  it('parks at once a row that can never be sent (a frame too large: CODEC)', async () => {
    const r = new OutboxRelay(outbox, { transport: failingWith(new PublishError('Publishing to exchange "x" failed (CODEC): frame size exceeds maximum')), maxRefusals: 5, maxBackoffMs: 1 });
    await r.relayOnce();
    const parked = await row();
    expect(parked.parked_at).to.be.instanceOf(Date);
    expect(parked.refusals).to.equal(1);
  });
});
