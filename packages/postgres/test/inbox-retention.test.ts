import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { IsString } from 'class-validator';
import { ConfigurationError, Consumer, type SettledEvent, type Warren } from '@warren/core';
import { Pool } from 'pg';
import { applySchema, Outbox, pruneInbox, transactionalInbox } from '../src';
import { startApp } from './fixtures';
import { describeWithPostgres, PG_CONFIG, TestSchema, within } from './support/postgres';

class Ping {
  @IsString() id!: string;
}

class Pings {
  @Consumer('${EX}', 'ping', { queue: '${EX}.ping', exchangeType: 'topic' })
  async ping(_ping: Ping) {}
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const DAY = 24 * 3600_000;

describeWithPostgres('Inbox retention', function () {
  this.timeout(30_000);
  let pool: Pool;
  let schema: TestSchema;
  let app: Warren | undefined;

  beforeEach(async () => {
    pool = new Pool({ ...PG_CONFIG, max: 8 });
    schema = await within(10_000, TestSchema.create(pool), 'creating the test schema');
    await within(10_000, applySchema(pool, schema), 'applying the schema');
  });

  afterEach(async () => {
    await within(10_000, app?.close() ?? Promise.resolve(), 'closing the app').catch(() => undefined);
    app = undefined;
    await within(10_000, schema.drop(), 'dropping the test schema').catch(() => undefined);
    await within(10_000, pool.end(), 'closing the pool').catch(() => undefined);
  });

  /** Inbox records of consumer `c`, `count` of them processed `ageMs` ago. */
  const record = (prefix: string, count: number, ageMs: number) => pool.query(
    `INSERT INTO ${schema.inboxTable} (consumer, message_id, processed_at) SELECT 'Old.consumer', $1 || g, now() - ($2::bigint * interval '1 millisecond') FROM generate_series(1, $3) g`,
    [prefix, ageMs, count],
  );
  const messageIds = async () => (await pool.query(`SELECT message_id FROM ${schema.inboxTable} ORDER BY message_id`)).rows.map((r) => r.message_id as string);

  it('pruneInbox deletes records older than the retention, at most `limit` per call, and keeps younger ones', async () => {
    await record('old-', 5, 10 * DAY);
    await record('young-', 2, 1000);
    const prune = () => pruneInbox(pool, { olderThanMs: 7 * DAY, inboxTable: schema.inboxTable, limit: 3 });
    expect(await prune()).to.equal(3);
    expect(await prune()).to.equal(2);
    expect(await prune()).to.equal(0);
    expect(await messageIds()).to.deep.equal(['young-1', 'young-2']);
  });

  it('the transactional inbox prunes records past its retentionMs while it consumes, in bounded runs, and keeps records within it', async () => {
    await record('old-', 7, 2 * 3600_000);
    await record('young-', 2, 1000);
    const outbox = new Outbox({ pool, outboxTable: schema.outboxTable });
    const exchange = `pg-retention-${randomBytes(4).toString('hex')}`;
    let settled: SettledEvent[];
    ({ app, settled } = await startApp(exchange, {
      handlers: [Pings],
      middleware: { consume: [transactionalInbox({ outbox, inboxTable: schema.inboxTable, retentionMs: 3600_000, pruneIntervalMs: 3600_000, pruneLimit: 3 })] },
    }));
    const old = async () => (await messageIds()).filter((id) => id.startsWith('old-')).length;
    // One run per interval, of at most pruneLimit records; a full run lets the next message prune again.
    for (const [i, left] of [[1, 4], [2, 1], [3, 0], [4, 0]] as const) {
      await app.publish(exchange, 'ping', { id: `p${i}` }, { messageId: `new-${i}` });
      await until(() => settled.length === i);
      await until(async () => (await old()) === left);
    }
    expect(await messageIds()).to.deep.equal(['new-1', 'new-2', 'new-3', 'new-4', 'young-1', 'young-2']);
  });

  it('refuses a retention or prune setting that is not a positive number', () => {
    const outbox = new Outbox({ pool, outboxTable: schema.outboxTable });
    expect(() => transactionalInbox({ outbox, retentionMs: 0 })).to.throw(ConfigurationError, /retentionMs/);
    expect(() => transactionalInbox({ outbox, pruneLimit: 1.5 })).to.throw(ConfigurationError, /pruneLimit/);
    expect(() => transactionalInbox({ outbox, pruneIntervalMs: Number.NaN })).to.throw(ConfigurationError, /pruneIntervalMs/);
  });
});
