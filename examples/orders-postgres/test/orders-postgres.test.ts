import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { MemoryTransport, silentLogger } from '@warren/core';
import { Pool } from 'pg';
import type * as Service from '../src/service';

/** Like the package's tests: needs PostgreSQL; fails under CI=true without it, skips locally. */
describe('orders-postgres (PostgreSQL)', function () {
  this.timeout(30_000);
  let pool: Pool;
  // A schema of this run's own, dropped afterwards: the service reads ORDERS_SCHEMA when it loads.
  const SCHEMA = `orders_pg_test_${randomBytes(4).toString('hex')}`;
  process.env.ORDERS_SCHEMA = SCHEMA;
  let service: Service.OrdersService | undefined;

  before(async function () {
    pool = new Pool({ connectionString: process.env.WARREN_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test', connectionTimeoutMillis: 5000 });
    pool.on('error', () => undefined);
    if (process.env.WARREN_SKIP_BROKER === '1') return this.skip();
    try {
      await pool.query('SELECT 1');
    } catch (error) {
      if (process.env.CI === 'true' || process.env.WARREN_REQUIRE_POSTGRES === '1') throw new Error(`PostgreSQL is required (CI=true): ${(error as Error).message}`);
      this.skip();
    }
    const { OrdersService } = require('../src/service') as typeof Service;
    service = await OrdersService.start(pool, { transport: new MemoryTransport(), logger: silentLogger });
  });

  after(async () => {
    await service?.close();
    await pool.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`).catch(() => undefined);
    await pool.end();
  });

  const invoicesOf = async (orderId: string) => (await pool.query(`SELECT number FROM ${SCHEMA}.invoices WHERE order_id = $1`, [orderId])).rows;
  const statusOf = async (orderId: string) => (await pool.query(`SELECT status FROM ${SCHEMA}.orders WHERE id = $1`, [orderId])).rows[0]?.status;

  it('invoices a placed order once and marks it invoiced, through the outbox and the inbox', async () => {
    const orderId = randomUUID();
    await service!.placeOrder({ orderId, customer: 'Ada', totalCents: 1200 });
    await until(async () => (await statusOf(orderId)) === 'invoiced');
    expect(await invoicesOf(orderId)).to.have.length(1);
  });

  it('acks a redelivered order.placed without invoicing it again', async () => {
    const orderId = randomUUID();
    await service!.placeOrder({ orderId, customer: 'Grace', totalCents: 900 });
    await until(async () => (await statusOf(orderId)) === 'invoiced');
    const { rows } = await pool.query(`SELECT properties->>'messageId' AS id FROM ${SCHEMA}.warren_outbox WHERE routing_key = 'order.placed' AND convert_from(body, 'UTF8')::jsonb->>'orderId' = $1`, [orderId]);
    const settledBefore = (await pool.query(`SELECT count(*)::int AS n FROM ${SCHEMA}.warren_inbox`)).rows[0].n;
    await service!.app.publish('orders-pg', 'order.placed', { orderId, customer: 'Grace', totalCents: 900 }, { messageId: rows[0].id });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await invoicesOf(orderId)).to.have.length(1);
    expect((await pool.query(`SELECT count(*)::int AS n FROM ${SCHEMA}.warren_inbox`)).rows[0].n).to.equal(settledBefore);
  });

  it('refuses an invalid order before writing anything', async () => {
    const orderId = randomUUID();
    const failure = await service!.placeOrder({ orderId, customer: '', totalCents: 0 }).catch((e: Error) => e);
    expect(failure).to.have.property('code', 'VALIDATION_FAILED');
    expect(await statusOf(orderId)).to.equal(undefined);
  });
});

async function until(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
