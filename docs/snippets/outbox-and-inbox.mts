// The code blocks of docs/outbox-and-inbox.md, compiled; docs.test.ts checks each region equals its block.
import { Consumer, Publisher, route, Warren, type MessageContext } from '@warren/core';
import { applySchema, Outbox, OutboxRelay, transactionalInbox, transactionOf } from '@warren/postgres';
import { Pool } from 'pg';
import { injectable } from 'tsyringe';

declare class OrderPlaced { orderId: string; total: number; }
declare class PaymentRequested { orderId: string; amount: number; }
declare const order: OrderPlaced;

@Publisher('orders', { type: 'topic' })
class OrderEvents {
  readonly placed = route('order.placed', OrderPlaced);
}
@Publisher('payments', { type: 'topic' })
class PaymentEvents {
  readonly requested = route('payment.requested', PaymentRequested);
}

// #region outbox-3
@injectable()
export class Billing {
  constructor(private readonly payments: PaymentEvents) {}

  @Consumer('orders', 'order.placed', { exchangeType: 'topic' })
  async charge(order: OrderPlaced, ctx: MessageContext) {
    const tx = transactionOf(ctx); // BEGIN was sent, the inbox record inserted
    await tx.query('INSERT INTO invoices (order_id, amount) VALUES ($1, $2)', [order.orderId, order.total]);
    await tx.publish(this.payments.requested, { orderId: order.orderId, amount: order.total });
  } // returns → COMMIT (rows, outbox message, inbox record) → ack
}
// #endregion outbox-3

// #region outbox-1
const pool = new Pool({ connectionString: process.env.DATABASE_URL });
pool.on('error', () => undefined); // an idle client lost in a database restart must not crash the process
await applySchema(pool);            // creates or migrates warren_outbox and warren_inbox

const outbox = new Outbox({ pool });
const app = await Warren.start({ handlers: [Billing], middleware: { consume: [transactionalInbox({ outbox })] } });
const relay = new OutboxRelay(outbox, { transport: app.transport, logger: app.logger }).start();
// at shutdown: await relay.close(); await app.close(); await pool.end();
// #endregion outbox-1

const events = app.get(OrderEvents);
// #region outbox-2
await outbox.transaction(async (tx) => {
  await tx.query('INSERT INTO orders (id, total) VALUES ($1, $2)', [order.orderId, order.total]);
  await tx.publish(events.placed, order, { orderingKey: order.orderId }); // validated here; sent after COMMIT
});
// #endregion outbox-2

// #region outbox-4
const parked = await outbox.parked.count();          // every relay's, for a metric or health check
for (const row of await outbox.parked.list()) console.log(row.messageId, row.routingKey, row.lastError);
await outbox.parked.release();                       // after binding the missing queue: send them again
await outbox.parked.discard(['42']);                 // or give up on some for good
// #endregion outbox-4


void relay;
void parked;
