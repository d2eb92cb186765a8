import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { container } from 'tsyringe';
import { PayloadValidationError, Warren } from '@warren/core';
import { OrderBook, OrderEvents, OrderHandlers } from './handlers';

/**
 * The seed's scenario end to end: start the service, send "Hello" and an order, try an invalid
 * order (refused before sending), publish a malformed one raw (dead-lettered), show the result.
 * Runs on AMQP_URL if set, else on the embedded broker.
 */
async function main(): Promise<void> {
  const child = container.createChildContainer();
  child.registerSingleton(OrderBook);
  const app = await Warren.start({ name: 'orders-demo', handlers: [OrderHandlers], container: child });
  const events = app.get(OrderEvents);
  const book = app.get(OrderBook);
  try {
    // On a real broker the DLQ outlives the demo: start from an empty one so the count below is this run's.
    await app.transport.purgeQueue('orders.order-created.dlq');
    await events.hello('Hello');
    await events.created({ orderId: randomUUID(), items: [{ sku: 'BOOK-1', qty: 2 }] });
    try {
      await events.created({ orderId: 'not-a-uuid', items: [] });
    } catch (error) {
      if (!(error instanceof PayloadValidationError)) throw error;
      console.log(`publisher refused an invalid order: ${error.message}`);
    }
    // A publisher that does not validate (another service, another language) sends a bad order:
    await app.publish('orders', 'order.created', { orderId: randomUUID(), items: [{ sku: 'BOOK-2', qty: 0 }] });
    await waitFor(async () => book.orders.length === 1 && (await app.transport.inspectQueue('orders.order-created.dlq')).messageCount === 1);
    const dead = await app.transport.get('orders.order-created.dlq');
    if (dead) {
      console.log(`dead-lettered: ${String(dead.properties.headers?.['x-warren-error-code'])} — ${String(dead.properties.headers?.['x-warren-error-details'])}`);
      await dead.ack();
    }
    console.log(`handled ${book.greetings.length} greeting(s) and ${book.orders.length} order(s); 1 invalid order dead-lettered`);
  } finally {
    await app.close();
  }
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('the demo did not see the expected messages in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
