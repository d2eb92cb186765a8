import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { PayloadValidationError, type Warren } from '@warren/core';
import { Pool } from 'pg';
import { applySchema, isTransientDatabaseError, Outbox, OutboxError, OutboxRelay, renderSchema } from '../src';
import { AcceptedSink, OrderEvents, startApp } from './fixtures';
import { describeWithPostgres, PG_CONFIG, TestSchema, within } from './support/postgres';

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describeWithPostgres('Outbox', function () {
  this.timeout(30_000);
  let pool: Pool;
  let schema: TestSchema;
  let outbox: Outbox;
  let app: Warren;
  const relays: OutboxRelay[] = [];

  beforeEach(async () => {
    pool = new Pool({ ...PG_CONFIG, max: 8 });
    schema = await within(10_000, TestSchema.create(pool), 'creating the test schema');
    await within(10_000, applySchema(pool, schema), 'applying the schema');
    outbox = new Outbox({ pool, outboxTable: schema.outboxTable });
    ({ app } = await startApp(`pg-test-${randomBytes(4).toString('hex')}`));
  });

  afterEach(async () => {
    await within(10_000, Promise.all(relays.splice(0).map((r) => r.close())), 'closing relays').catch(() => undefined);
    await within(10_000, app?.close(), 'closing the app').catch(() => undefined);
    await within(10_000, schema.drop(), 'dropping the test schema').catch(() => undefined);
    await within(10_000, pool.end(), 'closing the pool').catch(() => undefined);
  });

  const relay = (options: Partial<ConstructorParameters<typeof OutboxRelay>[1]> = {}) => {
    const r = new OutboxRelay(outbox, { transport: app.transport, pollIntervalMs: 50, ...options });
    relays.push(r);
    return r;
  };
  const rows = async (where = 'true') => (await pool.query(`SELECT * FROM ${schema.outboxTable} WHERE ${where} ORDER BY id`)).rows;

  it('writes a message published in a transaction to the outbox table, and the relay sends it after commit', async () => {
    const events = app.get(OrderEvents);
    await outbox.transaction(async (tx) => {
      await tx.publish(events.accepted, { orderId: 'o-1' }, { messageId: 'm-1' });
      expect(app.get(AcceptedSink).received, 'nothing reaches the broker inside the transaction').to.have.length(0);
    });
    const [row] = await rows();
    expect(row.routing_key).to.equal('order.accepted');
    expect(row.properties.messageId).to.equal('m-1');
    expect(row.sent_at).to.equal(null);
    expect(await relay().relayOnce()).to.equal(1);
    await until(() => app.get(AcceptedSink).received.length === 1);
    expect(app.get(AcceptedSink).received[0]!.context.messageId).to.equal('m-1');
    expect((await rows())[0].sent_at).to.be.instanceOf(Date);
  });

  it('sends nothing that was published in a transaction that rolled back', async () => {
    const events = app.get(OrderEvents);
    const failure = await outbox.transaction(async (tx) => {
      await tx.publish(events.accepted, { orderId: 'o-2' });
      throw new Error('business rule failed');
    }).catch((e: Error) => e);
    expect(failure).to.be.instanceOf(Error).with.property('message', 'business rule failed');
    expect(await rows()).to.have.length(0);
    expect(await relay().relayOnce()).to.equal(0);
  });

  it('validates at the publish call: an invalid message rejects before any row is written', async () => {
    const events = app.get(OrderEvents);
    const failure = await outbox.transaction(async (tx) => {
      await tx.publish(events.placed, { orderId: '', total: -1 });
    }).catch((e: Error) => e);
    expect(failure).to.be.instanceOf(PayloadValidationError);
    expect(await rows()).to.have.length(0);
  });

  it('refuses a header JSON cannot keep, at the publish call', async () => {
    const events = app.get(OrderEvents);
    const failure = await outbox.transaction(async (tx) => {
      await tx.publish(events.accepted, { orderId: 'o-3' }, { headers: { raw: Buffer.from('x') } });
    }).catch((e: Error) => e);
    expect(failure).to.be.instanceOf(OutboxError).with.property('code', 'OUTBOX_HEADER');
  });

  it('refuses to publish through a transaction that has ended', async () => {
    const events = app.get(OrderEvents);
    let kept: Parameters<Parameters<Outbox['transaction']>[0]>[0] | undefined;
    await outbox.transaction(async (tx) => { kept = tx; });
    const failure = await kept!.publish(events.accepted, { orderId: 'late' }).catch((e: Error) => e);
    expect(failure).to.be.instanceOf(OutboxError).with.property('code', 'OUTBOX_TRANSACTION_ENDED');
  });

  it('publishes through a transaction the caller manages, with outbox.use(client)', async () => {
    const events = app.get(OrderEvents);
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await outbox.use(client).publish(events.accepted, { orderId: 'o-use' });
      expect(await rows(), 'not visible before COMMIT').to.have.length(0);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    expect((await rows()).map((r) => r.ordering_key)).to.deep.equal([null]);
    expect(await relay().relayOnce()).to.equal(1);
  });

  it('survives its connection being ended by the server mid-transaction: the transaction rejects with a transient error, the process lives on', async () => {
    const failure = await outbox.transaction(async (tx) => {
      const { rows: [row] } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      await pool.query('SELECT pg_terminate_backend($1)', [row!.pid]);
      await new Promise((resolve) => setTimeout(resolve, 300)); // the FATAL reaches the idle client now
      await tx.query('SELECT 1');
    }).catch((e: Error) => e);
    expect(isTransientDatabaseError(failure), String(failure)).to.equal(true);
    expect(await rows()).to.have.length(0);
  });

  it('wakes the relay by NOTIFY at commit, long before its poll', async () => {
    const events = app.get(OrderEvents);
    relay({ pollIntervalMs: 60_000 }).start();
    await new Promise((resolve) => setTimeout(resolve, 300)); // LISTEN established
    const committed = Date.now();
    await outbox.transaction((tx) => tx.publish(events.accepted, { orderId: 'o-4' }));
    await until(() => app.get(AcceptedSink).received.length === 1, 20_000);
    const latency = Date.now() - committed;
    console.log(`      commit-to-consume latency through NOTIFY: ${latency} ms (poll period 60,000 ms)`);
    expect(latency).to.be.below(20_000);
  });

  it('keeps the order of each ordering key and sends every message once, with several relays at once (keyed and unkeyed)', async () => {
    const events = app.get(OrderEvents);
    const keys = ['a', 'b', 'c', 'd'];
    const perKey = 40;
    // Concurrent writers, several messages per transaction, keys interleaved.
    await Promise.all(keys.map(async (key) => {
      for (let i = 0; i < perKey; i += 4) {
        await outbox.transaction(async (tx) => {
          for (let j = i; j < i + 4; j++) await tx.publish(events.accepted, { orderId: `${key}-${j}` }, { orderingKey: key, messageId: `${key}-${j}` });
        });
      }
    }));
    // And messages without a key, which any relay may take.
    const unkeyed = 80;
    await Promise.all(Array.from({ length: 8 }, (_, t) => outbox.transaction(async (tx) => {
      for (let j = t * 10; j < t * 10 + 10; j++) await tx.publish(events.accepted, { orderId: `n-${j}` }, { messageId: `n-${j}` });
    })));
    for (let i = 0; i < 3; i++) relay({ batchSize: 7 }).start();
    const sink = app.get(AcceptedSink);
    await until(() => sink.received.length >= keys.length * perKey + unkeyed, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 200)); // a duplicate would arrive now
    const ids = sink.received.map((r) => r.orderId);
    expect(new Set(ids).size, 'no duplicates').to.equal(ids.length);
    expect(ids).to.have.length(keys.length * perKey + unkeyed);
    for (const key of keys) {
      const seen = ids.filter((id) => id.startsWith(`${key}-`)).map((id) => Number(id.slice(2)));
      expect(seen, `order of key ${key}`).to.deep.equal(Array.from({ length: perKey }, (_, i) => i));
    }
    console.log(`      3 relays: ${relays.map((r) => r.published).join(' + ')} messages`);
  });

  it('backs off a message the broker refuses, keeps its key waiting behind it, and sends both later', async () => {
    const events = app.get(OrderEvents);
    const exchange = (app.publishers.find((p) => p.publisherClass === OrderEvents))!.exchange.name;
    await outbox.transaction(async (tx) => {
      // Mandatory and unroutable: the broker returns it.
      await tx.publish(events.accepted, { orderId: 'x-1' }, { orderingKey: 'x', routingKey: 'nobody.listens', mandatory: true });
      await tx.publish(events.accepted, { orderId: 'x-2' }, { orderingKey: 'x' });
    });
    const r = relay({ maxBackoffMs: 1 });
    expect(await r.relayOnce()).to.equal(0);
    const [first, second] = await rows();
    expect(first.attempts).to.equal(1);
    expect(first.last_error).to.match(/unroutable|no queue|route/i);
    expect(second.sent_at, 'the key waits for its first message').to.equal(null);
    await app.transport.declare({ queues: [{ name: `${exchange}.late` }], bindings: [{ exchange, queue: `${exchange}.late`, routingKey: 'nobody.listens' }] });
    await until(async () => (await r.relayOnce()) > 0 || (await rows('sent_at IS NULL')).length === 0);
    await until(async () => { await r.relayOnce(); return (await rows('sent_at IS NULL')).length === 0; });
    expect(app.get(AcceptedSink).received.map((m) => m.orderId)).to.deep.equal(['x-2']);
  });

  it('deletes sent rows after the retention period and keeps unsent ones', async () => {
    const events = app.get(OrderEvents);
    await outbox.transaction((tx) => tx.publish(events.accepted, { orderId: 'o-5' }));
    const r = relay({ retentionMs: 0 });
    await r.relayOnce();
    await outbox.transaction((tx) => tx.publish(events.accepted, { orderId: 'o-6' }));
    expect(await r.cleanup()).to.equal(1);
    const left = await rows();
    expect(left).to.have.length(1);
    expect(left[0].sent_at).to.equal(null);
  });
});

describeWithPostgres('Outbox schema', function () {
  this.timeout(30_000);

  it('creates the tables and relay indexes under configured names, and applying it again changes nothing', async () => {
    const pool = new Pool({ ...PG_CONFIG, max: 4 });
    const schema = await TestSchema.create(pool);
    try {
      const names = { outboxTable: `${schema.name}.orders_outbox`, inboxTable: `${schema.name}.orders_inbox` };
      await Promise.all([applySchema(pool, names), applySchema(pool, names)]);
      await applySchema(pool, names);
      const indexes = (await pool.query('SELECT indexname FROM pg_indexes WHERE schemaname = $1 ORDER BY indexname', [schema.name])).rows.map((r) => r.indexname);
      expect(indexes).to.include.members(['orders_outbox_pending', 'orders_outbox_pending_key', 'orders_outbox_sent', 'orders_outbox_parked', 'orders_inbox_processed']);
    } finally {
      await schema.drop();
      await pool.end();
    }
  });

  it('migrates an outbox table made before parking existed: adds its columns and keeps the rows', async () => {
    const pool = new Pool({ ...PG_CONFIG, max: 2 });
    const schema = await TestSchema.create(pool);
    try {
      await applySchema(pool, schema);
      await pool.query(`DROP INDEX ${schema.name}.warren_outbox_parked`);
      await pool.query(`ALTER TABLE ${schema.outboxTable} DROP COLUMN parked_at, DROP COLUMN refusals`);
      await pool.query(`INSERT INTO ${schema.outboxTable} (exchange, routing_key, body, properties) VALUES ('x', 'k', '\\x00', '{}')`);
      await applySchema(pool, schema);
      const { rows } = await pool.query(`SELECT refusals, parked_at FROM ${schema.outboxTable}`);
      expect(rows).to.deep.equal([{ refusals: 0, parked_at: null }]);
    } finally {
      await schema.drop();
      await pool.end();
    }
  });

  it('renders its SQL file with the default names', () => {
    const sql = renderSchema();
    expect(sql).to.contain('CREATE TABLE IF NOT EXISTS "warren_outbox"');
    expect(sql).to.contain('CREATE TABLE IF NOT EXISTS "warren_inbox"');
    expect(sql).not.to.contain('{{');
  });

  it('refuses a table name that is not an identifier', () => {
    expect(() => renderSchema({ outboxTable: 'outbox; DROP TABLE users' })).to.throw(/not a valid table name/);
    expect(() => new Outbox({ pool: undefined as never, outboxTable: 'a"b' })).to.throw(/not a valid table name/);
  });
});
