// docs/getting-started.md, step 5.
// #region getting-started-main
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { Warren } from '@warren/core';
import { Billing } from './billing';
import { OrderEvents } from './order-events';

async function main() {
  // Stops gracefully on SIGINT / SIGTERM. AMQP_URL selects RabbitMQ; without it, the embedded broker.
  const app = await Warren.run({ name: 'billing', handlers: [Billing], publishers: [OrderEvents] });
  await app.get(OrderEvents).created({ orderId: randomUUID(), items: [{ sku: 'BOOK-1', qty: 2 }] });
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
// #endregion getting-started-main
