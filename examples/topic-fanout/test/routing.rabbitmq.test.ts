import 'reflect-metadata';
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { container } from 'tsyringe';
import { AmqpTransport, silentLogger, Warren } from '@warren/core';
import { Deliveries, HANDLERS, OrderEvents, PaymentEvents } from '../src/handlers';
import { AMQP_URL, describeWithBroker, uniqueName } from './support/broker';
import { afterCleanup } from './support/cleanup';

describeWithBroker('topic-fanout', () => {
  const env = { EVENTS_EXCHANGE: uniqueName('events'), AUDIT_EXCHANGE: uniqueName('audit') };
  const deliveries = new Deliveries();
  let app: Warren;

  before(async () => {
    const scoped = container.createChildContainer();
    scoped.registerInstance(Deliveries, deliveries);
    app = await Warren.start({ url: AMQP_URL, env, handlers: HANDLERS, container: scoped, logger: silentLogger });
  });
  afterCleanup('delete the topology, close the app', async () => {
    if (!app) return; // skipped: no broker
    // Close first: a consumer still attached re-declares a queue deleted under it.
    const consumers = app.consumers;
    await app.close();
    const admin = new AmqpTransport({ url: AMQP_URL });
    await admin.connect();
    try {
      for (const queue of consumers.flatMap((c) => [c.queue, `${c.queue}.dlq`, `${c.queue}.redelivered`])) await admin.deleteQueue(queue).catch(() => undefined);
      for (const exchange of Object.values(env)) await admin.deleteExchange(exchange).catch(() => undefined);
    } finally {
      await admin.close();
    }
  });

  it('routes by topic pattern and fans audit entries out to every reader, as in memory', async () => {
    const orderId = randomUUID();
    await app.get(OrderEvents).shipmentDelayed({ orderId });
    await app.get(OrderEvents).cancelled({ orderId });
    await app.get(PaymentEvents).cancelled({ orderId });
    // 1 + 3 + 1 topic deliveries, then 2 audit entries × 2 readers.
    for (const deadline = Date.now() + 8000; deliveries.seen.length < 9 && Date.now() < deadline;) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(deliveries.of('shipping')).to.deep.equal(['order.cancelled']);
    expect(deliveries.of('analytics')).to.have.members(['order.shipment.delayed', 'order.cancelled']);
    expect(deliveries.of('support')).to.have.members(['order.cancelled', 'payment.cancelled']);
    expect(deliveries.of('compliance')).to.have.members(['order.cancelled', 'payment.cancelled']);
    expect(deliveries.of('security')).to.have.members(['order.cancelled', 'payment.cancelled']);
  });
});
