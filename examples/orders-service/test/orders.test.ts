import 'reflect-metadata';
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { PayloadValidationError } from '@warren/core';
import { TestApp } from '@warren/testing';
import { OrderBook, OrderEvents, OrderHandlers } from '../src/handlers';
import { afterEachCleanup } from './support/cleanup';

describe('orders-service', () => {
  let book: OrderBook;
  let t: TestApp;

  beforeEach(async () => {
    book = new OrderBook();
    t = await TestApp.create({ handlers: [OrderHandlers], providers: [{ provide: OrderBook, useValue: book }] });
  });
  afterEachCleanup('close the test app', () => t.close());

  it('records a valid order', async () => {
    const orderId = randomUUID();
    const outcome = await t.publish('orders', 'order.created', { orderId, items: [{ sku: 'A-1', qty: 3 }] });
    expect(outcome.status).to.equal('handled');
    expect(book.orders).to.have.length(1);
    expect(book.orders[0]!.orderId).to.equal(orderId);
    expect(book.orders[0]!.items[0]!.qty).to.equal(3);
  });

  it('dead-letters an order with a zero quantity, with the reason in its headers', async () => {
    const outcome = await t.publish('orders', 'order.created', { orderId: randomUUID(), items: [{ sku: 'A-1', qty: 0 }] });
    expect(outcome.status).to.equal('dead-lettered');
    expect(outcome.error?.code).to.equal('VALIDATION_FAILED');
    expect(book.orders).to.be.empty;
    const [dead] = await t.deadLetters('orders.order-created');
    expect(dead?.headers['x-warren-error-code']).to.equal('VALIDATION_FAILED');
    expect(String(dead?.headers['x-warren-error-details'])).to.contain('items.0.qty');
  });

  it('handles the "Hello" greeting as text', async () => {
    const outcome = await t.publish('orders', 'greeting.hello', 'Hello');
    expect(outcome.status).to.equal('handled');
    expect(book.greetings).to.deep.equal(['Hello']);
  });

  it('refuses to publish an invalid order before anything is sent', async () => {
    const before = t.published({ exchange: 'orders' }).length;
    let error: unknown;
    try {
      await t.get(OrderEvents).created({ orderId: 'nope', items: [] });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(PayloadValidationError);
    expect(t.published({ exchange: 'orders' })).to.have.length(before);
  });

  it('publishes a valid order through the OrderEvents route', async () => {
    await t.get(OrderEvents).created({ orderId: randomUUID(), items: [{ sku: 'B', qty: 1 }] });
    await t.idle();
    expect(book.orders).to.have.length(1);
    expect(t.published({ exchange: 'orders', routingKey: 'order.created' })).to.have.length(1);
  });
});
