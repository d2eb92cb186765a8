import { Consumer, Warren, type Logger, type MessageContext, type Transport } from '@warren/core';
import { applySchema, Outbox, OutboxRelay, transactionalInbox, transactionOf } from '@warren/postgres';
import type { Pool } from 'pg';
import { container, injectable } from 'tsyringe';
import { InvoiceIssued, OrderEvents, OrderPlaced } from './messages';

/** Where the service keeps its rows: one schema for orders, invoices, outbox and inbox. */
export const SCHEMA = process.env.ORDERS_SCHEMA ?? 'orders_pg';

/** Creates the service's schema and tables (idempotent). */
export async function migrate(pool: Pool, schema = SCHEMA): Promise<void> {
  await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  await pool.query(`CREATE TABLE IF NOT EXISTS ${schema}.orders (id uuid PRIMARY KEY, customer text NOT NULL, total_cents int NOT NULL, status text NOT NULL DEFAULT 'placed')`);
  await pool.query(`CREATE TABLE IF NOT EXISTS ${schema}.invoices (number text PRIMARY KEY, order_id uuid NOT NULL UNIQUE, amount_cents int NOT NULL)`);
  await applySchema(pool, { outboxTable: `${schema}.warren_outbox`, inboxTable: `${schema}.warren_inbox` });
}

/** Billing: invoices each placed order once, and announces the invoice through the outbox. */
@injectable()
export class Billing {
  constructor(private readonly events: OrderEvents) {}

  @Consumer('orders-pg', 'order.placed', { exchangeType: 'topic', queue: 'orders-pg.billing', retry: { attempts: 3, delay: 500 } })
  async invoice(order: OrderPlaced, ctx: MessageContext): Promise<void> {
    const tx = transactionOf(ctx);
    const { rows } = await tx.query<{ n: string }>(`SELECT nextval('${SCHEMA}.invoice_numbers')::text AS n`);
    const invoiceNumber = `INV-${rows[0]!.n.padStart(6, '0')}`;
    await tx.query(`INSERT INTO ${SCHEMA}.invoices (number, order_id, amount_cents) VALUES ($1, $2, $3)`, [invoiceNumber, order.orderId, order.totalCents]);
    await tx.publish(this.events.invoiced, { orderId: order.orderId, invoiceNumber });
  }

  @Consumer('orders-pg', 'invoice.issued', { exchangeType: 'topic', queue: 'orders-pg.status' })
  async markInvoiced(invoice: InvoiceIssued, ctx: MessageContext): Promise<void> {
    await transactionOf(ctx).query(`UPDATE ${SCHEMA}.orders SET status = 'invoiced' WHERE id = $1`, [invoice.orderId]);
  }
}

/** The running service: the Warren app, its relay, and the one way to place an order. */
export class OrdersService {
  private constructor(readonly app: Warren, readonly outbox: Outbox, readonly relay: OutboxRelay, private readonly events: OrderEvents) {}

  static async start(pool: Pool, options: { url?: string; transport?: Transport; logger?: Logger } = {}): Promise<OrdersService> {
    await migrate(pool);
    await pool.query(`CREATE SEQUENCE IF NOT EXISTS ${SCHEMA}.invoice_numbers`);
    const outbox = new Outbox({ pool, outboxTable: `${SCHEMA}.warren_outbox` });
    const app = await Warren.start({
      name: 'orders-postgres', url: options.url, transport: options.transport, logger: options.logger, handlers: [Billing], container: container.createChildContainer(),
      middleware: { consume: [transactionalInbox({ outbox, inboxTable: `${SCHEMA}.warren_inbox` })] },
    });
    const relay = new OutboxRelay(outbox, { transport: app.transport, logger: app.logger }).start();
    return new OrdersService(app, outbox, relay, app.get(OrderEvents));
  }

  /** Saves the order and its `order.placed` event in one transaction: both or neither. */
  async placeOrder(order: OrderPlaced): Promise<void> {
    await this.outbox.transaction(async (tx) => {
      await tx.query(`INSERT INTO ${SCHEMA}.orders (id, customer, total_cents) VALUES ($1, $2, $3)`, [order.orderId, order.customer, order.totalCents]);
      await tx.publish(this.events.placed, order, { orderingKey: order.orderId });
    });
  }

  async close(): Promise<void> {
    await this.relay.close();
    await this.app.close();
  }
}
