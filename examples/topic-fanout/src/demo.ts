import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { container } from 'tsyringe';
import { configFromEnv, Warren } from '@warren/core';
import { Deliveries, HANDLERS, OrderEvents, PaymentEvents } from './handlers';

/** Publishes four events and prints which service received which. */
async function main(): Promise<void> {
  const deliveries = new Deliveries();
  const scoped = container.createChildContainer();
  scoped.registerInstance(Deliveries, deliveries);
  const app = await Warren.start({ name: 'topic-fanout-demo', handlers: HANDLERS, container: scoped, ...configFromEnv(process.env) });
  try {
    const orderId = randomUUID();
    await app.get(OrderEvents).created({ orderId });
    await app.get(OrderEvents).shipmentDelayed({ orderId, reason: 'storm' });
    await app.get(OrderEvents).cancelled({ orderId, reason: 'changed my mind' });
    await app.get(PaymentEvents).cancelled({ orderId });
    // 4 events → 2 + 3 + 2 topic deliveries, then 2 audit entries × 2 readers.
    for (const deadline = Date.now() + 10_000; deliveries.seen.length < 11 && Date.now() < deadline;) await new Promise((resolve) => setTimeout(resolve, 20));
    for (const line of deliveries.seen) console.log(line);
  } finally {
    await app.close();
  }
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
