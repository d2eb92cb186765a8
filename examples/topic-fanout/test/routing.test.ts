import 'reflect-metadata';
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { TestApp } from '@warren/testing';
import { Deliveries, HANDLERS, OrderEvents, PaymentEvents } from '../src/handlers';
import { afterEachCleanup } from './support/cleanup';

describe('topic-fanout: who receives what', () => {
  const orderId = randomUUID();
  let deliveries: Deliveries;
  let t: TestApp;

  beforeEach(async () => {
    deliveries = new Deliveries();
    t = await TestApp.create({ handlers: HANDLERS, providers: [{ provide: Deliveries, useValue: deliveries }] });
  });
  afterEachCleanup('close the test app', () => t.close());

  it('order.created reaches order.* (shipping) and order.# (analytics), not #.cancelled (support)', async () => {
    await t.get(OrderEvents).created({ orderId });
    await t.idle();
    expect(deliveries.of('shipping')).to.deep.equal(['order.created']);
    expect(deliveries.of('analytics')).to.deep.equal(['order.created']);
    expect(deliveries.of('support')).to.be.empty;
  });

  it('order.shipment.delayed has three words: order.# matches it, order.* does not', async () => {
    await t.get(OrderEvents).shipmentDelayed({ orderId, reason: 'storm' });
    await t.idle();
    expect(deliveries.of('analytics')).to.deep.equal(['order.shipment.delayed']);
    expect(deliveries.of('shipping')).to.be.empty;
  });

  it('order.cancelled reaches all three, and its audit entry reaches both fanout readers', async () => {
    await t.get(OrderEvents).cancelled({ orderId, reason: 'changed my mind' });
    await t.idle();
    for (const service of ['shipping', 'analytics', 'support']) expect(deliveries.of(service), service).to.deep.equal(['order.cancelled']);
    expect(deliveries.of('compliance')).to.deep.equal(['order.cancelled']);
    expect(deliveries.of('security')).to.deep.equal(['order.cancelled']);
    const [entry] = t.published({ exchange: 'audit' });
    expect(entry?.payload).to.deep.include({ action: 'cancellation-reviewed', routingKey: 'order.cancelled', orderId });
  });

  it('payment.cancelled reaches #.cancelled only', async () => {
    await t.get(PaymentEvents).cancelled({ orderId });
    await t.idle();
    expect(deliveries.of('support')).to.deep.equal(['payment.cancelled']);
    expect(deliveries.of('shipping')).to.be.empty;
    expect(deliveries.of('analytics')).to.be.empty;
    expect(deliveries.of('security')).to.deep.equal(['payment.cancelled']);
  });

  it('an event nobody binds is not an error on a topic exchange', async () => {
    await t.app.publish('events', 'invoice.paid', { orderId });
    await t.idle();
    expect(deliveries.seen).to.be.empty;
  });
});
