import 'reflect-metadata';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'chai';
import { AmqpTransport, InvalidStreamOffsetError } from '@warren/core';
import { Pool } from 'pg';
import type * as CoreBrokerSupport from '../../core/test/support/broker';
import { applySchema, PostgresOffsetStore, renderSchema } from '../src';
import { describeWithPostgres, PG_CONFIG, requirePostgres, TestSchema, within } from './support/postgres';
import { SERVICE_SETTINGS } from './streams/stream-service';

// Core's broker helpers, from its compiled tests (core's package exports only its public API).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { AMQP_URL, describeWithBroker, uniqueName } = require(join(__dirname, '../../../core/dist/test/support/broker')) as typeof CoreBrokerSupport;

describeWithPostgres('PostgresOffsetStore', function () {
  let pool: Pool;
  let schema: TestSchema;
  before(async () => {
    pool = new Pool({ ...PG_CONFIG, max: 2 });
    schema = await TestSchema.create(pool);
    await applySchema(pool, schema);
  });
  after(async () => {
    await within(10_000, schema?.drop() ?? Promise.resolve(), 'dropping the test schema').catch(() => undefined);
    await pool?.end();
  });

  it('stores one offset per consumer name, replacing it on every save', async () => {
    const store = new PostgresOffsetStore({ pool, offsetTable: schema.offsetTable });
    expect(await store.load('audit:Audit.record')).to.equal(undefined);
    await store.save('audit:Audit.record', 41);
    await store.save('audit:Audit.record', 2 ** 40);
    await store.save('other:Other.read', 7);
    expect(await store.load('audit:Audit.record')).to.equal(2 ** 40);
    expect(await store.load('other:Other.read')).to.equal(7);
  });

  it('refuses a stored value that is not an offset Warren could have written', async () => {
    const store = new PostgresOffsetStore({ pool, offsetTable: schema.offsetTable });
    await pool.query(`INSERT INTO ${schema.offsetTable} (consumer, stream_offset) VALUES ('huge', $1)`, ['1152921504606846976']);
    const error = await store.load('huge').then(() => undefined, (e: Error) => e);
    expect(error).to.be.instanceOf(InvalidStreamOffsetError);
    expect(await pool.query(`INSERT INTO ${schema.offsetTable} (consumer, stream_offset) VALUES ('negative', -1)`).then(() => 'inserted', () => 'refused')).to.equal('refused');
  });

  it('is created by the schema SQL under its configured name', () => {
    expect(renderSchema()).to.contain('CREATE TABLE IF NOT EXISTS "warren_offsets"');
    expect(renderSchema({ offsetTable: 'audit.offsets' })).to.contain('CREATE TABLE IF NOT EXISTS "audit"."offsets"');
    expect(() => new PostgresOffsetStore({ pool, offsetTable: 'x; DROP TABLE y' })).to.throw(/not a valid table name/);
  });
});

describeWithBroker('A stream consumer killed with SIGKILL, offsets in PostgreSQL', function () {
  this.timeout(90_000);
  const COUNT = 400;
  let pool: Pool;
  let schema: TestSchema | undefined;
  let child: ChildProcess | undefined;
  let admin: AmqpTransport | undefined;
  const env = { EX: uniqueName('pg-offsets'), S: '' };
  env.S = `${env.EX}.ticks`;

  before(async function () {
    await requirePostgres(this);
    pool = new Pool({ ...PG_CONFIG, max: 2 });
  });
  after(async function () {
    this.timeout(30_000);
    if (child && child.exitCode === null) child.kill('SIGKILL');
    if (admin) {
      for (const queue of [env.S, `${env.S}.dlq`]) await admin.deleteQueue(queue).catch(() => undefined);
      await admin.deleteExchange(env.EX).catch(() => undefined);
      await admin.close();
    }
    await within(10_000, schema?.drop() ?? Promise.resolve(), 'dropping the test schema').catch(() => undefined);
    await pool?.end();
  });

  it(`resumes after the stored offset: every one of ${COUNT} events handled, at most offsetCommit.every + prefetch - 1 twice`, async () => {
    const own = await TestSchema.create(pool);
    schema = own;
    await applySchema(pool, own);
    await pool.query(`CREATE TABLE ${own.name}.effects (id text NOT NULL, stream_offset bigint NOT NULL)`);
    const childEnv = { ...process.env, AMQP_URL, PG_URL: PG_CONFIG.connectionString!, PG_SCHEMA: own.name, EX: env.EX, S: env.S };
    const spawnService = () => new Promise<ChildProcess>((resolve, reject) => {
      const service = spawn(process.execPath, [join(__dirname, 'streams', 'stream-service.js')], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      service.stdout!.on('data', (d: Buffer) => { output += d.toString(); if (output.includes('ready\n')) resolve(service); });
      service.stderr!.on('data', (d: Buffer) => process.stderr.write(d));
      service.once('exit', (code) => reject(new Error(`the service exited (${code}) before it was ready`)));
    });
    const count = async (sql: string) => Number((await pool.query(sql)).rows[0].n);

    child = await within(30_000, spawnService(), 'starting the service');
    admin = new AmqpTransport({ url: AMQP_URL });
    await admin.connect();
    for (let batch = 0; batch < COUNT; batch += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, i) => admin!.publish({ exchange: env.EX, routingKey: 'tick', body: Buffer.from(JSON.stringify({ id: `t${batch + i}` })), properties: { contentType: 'application/json', deliveryMode: 2 } })));
    }
    await waitFor(async () => (await count(`SELECT count(*) AS n FROM ${own.name}.effects`)) >= COUNT / 3, 30_000);
    child.kill('SIGKILL');
    await new Promise((resolve) => child!.once('exit', resolve));
    const stored = Number((await pool.query(`SELECT stream_offset FROM ${own.offsetTable}`)).rows[0]?.stream_offset ?? -1);
    const handledBefore = await count(`SELECT count(*) AS n FROM ${own.name}.effects`);

    child = await within(30_000, spawnService(), 'restarting the service');
    await waitFor(async () => (await count(`SELECT count(DISTINCT id) AS n FROM ${own.name}.effects`)) === COUNT, 30_000);
    const repeats = await count(`SELECT count(*) - count(DISTINCT id) AS n FROM ${own.name}.effects`);
    const bound = SERVICE_SETTINGS.every + SERVICE_SETTINGS.prefetch - 1;
    console.log(`      (killed after ${handledBefore} events with offset ${stored} stored; ${repeats} handled twice; bound ${bound})`);
    expect(repeats).to.be.at.most(bound);
    // Only events after the stored offset were handled again.
    expect(await count(`SELECT count(*) AS n FROM (SELECT id FROM ${own.name}.effects GROUP BY id HAVING count(*) > 1 AND min(stream_offset) <= ${stored}) d`)).to.equal(0);
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
