import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { IsInt, IsString, Length, Min } from 'class-validator';
import { Consumer, type MessageContext, type SettledEvent, type Warren } from '@warren/core';
import { Pool } from 'pg';
import { injectable } from 'tsyringe';
import { applySchema, Outbox, OutboxRelay, transactionalInbox, transactionOf } from '../src';
import { AcceptedSink, OrderEvents, startApp } from './fixtures';
import { describeWithPostgres, PG_CONFIG, TestSchema, within } from './support/postgres';

class Charge {
  @IsString() @Length(1, 80) orderId!: string;
  @IsInt() @Min(0) amount!: number;
}

/** What the handlers are told to do, per order id. */
const script = new Map<string, 'fail-once' | 'fail-after-publish'>();
const failed = new Set<string>();
let table = '';
let runs = 0;

@injectable()
class Billing {
  constructor(private readonly events: OrderEvents) {}

  @Consumer('${EX}', 'charge', { queue: '${EX}.charge', exchangeType: 'topic', retry: { attempts: 3, delay: 10 } })
  async charge(charge: Charge, ctx: MessageContext) {
    runs++;
    const tx = transactionOf(ctx);
    await tx.query(`INSERT INTO ${table} (order_id, amount) VALUES ($1, $2)`, [charge.orderId, charge.amount]);
    await tx.publish(this.events.accepted, { orderId: charge.orderId });
    const step = script.get(charge.orderId);
    if (step && !failed.has(charge.orderId)) {
      failed.add(charge.orderId);
      throw new Error(`scripted failure (${step})`);
    }
  }

  @Consumer('${EX}', 'charges', { queue: '${EX}.charges', exchangeType: 'topic', message: Charge, batch: { size: 10, timeMs: 50 } })
  async charges(charges: Charge[], contexts: MessageContext[]) {
    const tx = transactionOf(contexts[0]!);
    for (const charge of charges) await tx.query(`INSERT INTO ${table} (order_id, amount) VALUES ($1, $2)`, [charge.orderId, charge.amount]);
  }
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describeWithPostgres('Transactional inbox', function () {
  this.timeout(30_000);
  let pool: Pool;
  let schema: TestSchema;
  let outbox: Outbox;
  let app: Warren;
  let settled: SettledEvent[];
  let exchange: string;

  beforeEach(async () => {
    pool = new Pool({ ...PG_CONFIG, max: 8 });
    schema = await within(10_000, TestSchema.create(pool), 'creating the test schema');
    await within(10_000, applySchema(pool, schema), 'applying the schema');
    table = `${schema.name}.charges`;
    await pool.query(`CREATE TABLE ${table} (id serial PRIMARY KEY, order_id text NOT NULL, amount int NOT NULL)`);
    outbox = new Outbox({ pool, outboxTable: schema.outboxTable });
    exchange = `pg-inbox-${randomBytes(4).toString('hex')}`;
    runs = 0;
    script.clear();
    failed.clear();
    ({ app, settled } = await startApp(exchange, { handlers: [Billing, AcceptedSink], middleware: { consume: [transactionalInbox({ outbox, inboxTable: schema.inboxTable, consumers: (c) => c.startsWith('Billing.'), unavailableDelayMs: 20 })] } }));
  });

  afterEach(async () => {
    await within(10_000, app?.close(), 'closing the app').catch(() => undefined);
    await within(10_000, schema.drop(), 'dropping the test schema').catch(() => undefined);
    await within(10_000, pool.end(), 'closing the pool').catch(() => undefined);
  });

  const charges = async () => (await pool.query(`SELECT order_id FROM ${table} ORDER BY id`)).rows.map((r) => r.order_id as string);
  const inboxRows = async () => (await pool.query(`SELECT consumer, message_id FROM ${schema.inboxTable} ORDER BY message_id`)).rows;
  const outboxRows = async () => (await pool.query(`SELECT properties FROM ${schema.outboxTable} ORDER BY id`)).rows;
  const billing = (e: SettledEvent) => e.consumer.startsWith('Billing.');

  it('commits the handler\'s rows, its outbox messages and the inbox record together, then acks', async () => {
    await app.publish(exchange, 'charge', { orderId: 'o-1', amount: 5 }, { messageId: 'm-1' });
    await until(() => settled.filter(billing).length === 1);
    expect(settled.filter(billing)[0]!.outcome).to.equal('handled');
    expect(await charges()).to.deep.equal(['o-1']);
    expect(await inboxRows()).to.deep.equal([{ consumer: 'Billing.charge', message_id: 'm-1' }]);
    expect(await outboxRows()).to.have.length(1);
    // The relay then sends what the handler published.
    await new OutboxRelay(outbox, { transport: app.transport }).relayOnce();
    await until(() => app.get(AcceptedSink).received.length === 1);
  });

  it('acks a duplicate delivery without running the handler', async () => {
    for (let i = 0; i < 3; i++) await app.publish(exchange, 'charge', { orderId: 'o-2', amount: 5 }, { messageId: 'm-2' });
    await until(() => settled.filter(billing).length === 3);
    expect(settled.filter(billing).map((e) => e.outcome)).to.deep.equal(['handled', 'handled', 'handled']);
    expect(runs).to.equal(1);
    expect(await charges()).to.deep.equal(['o-2']);
    expect(await outboxRows()).to.have.length(1);
  });

  it('skips a message whose transaction committed before a crash lost the ack (the record is there)', async () => {
    await pool.query(`INSERT INTO ${schema.inboxTable} (consumer, message_id) VALUES ('Billing.charge', 'm-3')`);
    await app.publish(exchange, 'charge', { orderId: 'o-3', amount: 5 }, { messageId: 'm-3' });
    await until(() => settled.filter(billing).length === 1);
    expect(runs).to.equal(0);
    expect(await charges()).to.deep.equal([]);
  });

  it('rolls back the rows, outbox messages and inbox record of a failed attempt, so the retry runs on a clean slate', async () => {
    script.set('o-4', 'fail-after-publish');
    await app.publish(exchange, 'charge', { orderId: 'o-4', amount: 5 }, { messageId: 'm-4' });
    await until(() => settled.filter(billing).some((e) => e.outcome === 'handled'));
    expect(settled.filter(billing).map((e) => e.outcome)).to.deep.equal(['retried', 'handled']);
    expect(runs).to.equal(2);
    expect(await charges()).to.deep.equal(['o-4']);
    expect(await outboxRows()).to.have.length(1);
    expect(await inboxRows()).to.have.length(1);
  });

  it('dead-letters a message without a message id with the reason INBOX_MISSING_MESSAGE_ID, without running the handler', async () => {
    await app.transport.publish({ exchange, routingKey: 'charge', body: Buffer.from(JSON.stringify({ orderId: 'o-5', amount: 1 })), properties: { contentType: 'application/json' } });
    await until(() => settled.filter(billing).length === 1);
    const [event] = settled.filter(billing);
    expect(event!.outcome).to.equal('dead-lettered');
    expect(event!.error?.code).to.equal('INBOX_MISSING_MESSAGE_ID');
    expect(runs).to.equal(0);
  });

  it('records every message of a batch and takes repeats out of it', async () => {
    await pool.query(`INSERT INTO ${schema.inboxTable} (consumer, message_id) VALUES ('Billing.charges', 'b-1')`);
    for (const n of [1, 2, 3]) await app.publish(exchange, 'charges', { orderId: `b-${n}`, amount: n }, { messageId: `b-${n}` });
    await until(() => settled.filter(billing).length === 3);
    expect(await charges()).to.deep.equal(['b-2', 'b-3']);
    expect((await inboxRows()).map((r) => r.message_id)).to.deep.equal(['b-1', 'b-2', 'b-3']);
  });

  it('passes consumers outside its filter through without a transaction', async () => {
    await outbox.transaction((tx) => tx.publish(app.get(OrderEvents).accepted, { orderId: 'o-6' }));
    await new OutboxRelay(outbox, { transport: app.transport }).relayOnce();
    await until(() => app.get(AcceptedSink).received.length === 1);
    expect(await inboxRows()).to.deep.equal([]);
  });
});

describeWithPostgres('Transactional inbox without its database', function () {
  this.timeout(30_000);

  it('requeues the message while PostgreSQL cannot be reached, instead of using up its retries', async () => {
    const pool = new Pool({ connectionString: 'postgres://postgres@127.0.0.1:1/test', connectionTimeoutMillis: 1000 });
    const outbox = new Outbox({ pool });
    const exchange = `pg-down-${randomBytes(4).toString('hex')}`;
    const { app, settled } = await startApp(exchange, { handlers: [Billing, AcceptedSink], middleware: { consume: [transactionalInbox({ outbox, unavailableDelayMs: 20 })] } });
    try {
      runs = 0;
      await app.publish(exchange, 'charge', { orderId: 'o-7', amount: 1 }, { messageId: 'm-7' });
      await until(() => settled.length >= 2);
      expect(settled.slice(0, 2).map((e) => e.outcome)).to.deep.equal(['requeued', 'requeued']);
      expect(runs).to.equal(0);
    } finally {
      await within(10_000, app?.close(), 'closing the app').catch(() => undefined);
      await pool.end().catch(() => undefined);
    }
  });
});
