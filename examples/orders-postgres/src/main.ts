import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { OrdersService, SCHEMA } from './service';

/**
 * `npm start`: places three orders against PostgreSQL (DATABASE_URL, default the machine's
 * postgres://postgres@127.0.0.1:5432/test) and the broker (AMQP_URL, or the embedded one), waits
 * until each is invoiced through outbox → broker → inbox → outbox → broker → inbox, then redelivers
 * one event to show that the inbox acks it without invoicing twice.
 */
async function main(): Promise<void> {
  const pool = new Pool({ connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test', connectionTimeoutMillis: 5000 });
  pool.on('error', () => undefined); // idle clients lost in a database restart are replaced
  const service = await OrdersService.start(pool);
  try {
    const orders = ['Ada', 'Grace', 'Edsger'].map((customer, i) => ({ orderId: randomUUID(), customer, totalCents: 1000 * (i + 1) }));
    for (const order of orders) await service.placeOrder(order);
    const ids = orders.map((o) => o.orderId);
    await waitFor(async () => (await pool.query(`SELECT count(*)::int AS n FROM ${SCHEMA}.orders WHERE id = ANY($1) AND status = 'invoiced'`, [ids])).rows[0].n === ids.length);
    const { rows } = await pool.query(`SELECT o.customer, o.total_cents, i.number FROM ${SCHEMA}.orders o JOIN ${SCHEMA}.invoices i ON i.order_id = o.id WHERE o.id = ANY($1) ORDER BY o.total_cents`, [ids]);
    for (const row of rows) console.log(`order of ${row.customer} (${row.total_cents} cents) invoiced as ${row.number}`);

    // The broker redelivers an event (as after a lost ack): same message id, so the inbox skips it.
    const [sent] = (await pool.query(`SELECT properties->>'messageId' AS id FROM ${SCHEMA}.warren_outbox WHERE routing_key = 'order.placed' AND convert_from(body, 'UTF8')::jsonb->>'orderId' = $1`, [orders[0]!.orderId])).rows;
    await service.app.publish('orders-pg', 'order.placed', orders[0], { messageId: sent?.id });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const invoices = (await pool.query(`SELECT count(*)::int AS n FROM ${SCHEMA}.invoices WHERE order_id = $1`, [orders[0]!.orderId])).rows[0].n;
    console.log(`redelivered order.placed for ${orders[0]!.customer}: ${invoices} invoice (the inbox acked the copy without running the handler)`);
  } finally {
    await service.close();
    await pool.end();
  }
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('the orders were not invoiced in time: is the relay running and the broker reachable?');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
