import 'reflect-metadata';
import { expect } from 'chai';
import { getConsumers, getPublisher, getPublisherRoutes } from '../src/metadata';
import { FixtureBilling, FixtureOrderEvents, OrderCreated } from './fixtures/orders';

describe('Decorator metadata', () => {
  it('records each @Consumer method with its exchange, routing keys and parameter types', () => {
    const consumers = getConsumers(FixtureBilling);
    expect(consumers.map((c) => c.method)).to.deep.equal(['charge', 'picture']);
    expect(consumers[0]!.exchange).to.equal('fixture-orders');
    expect(consumers[0]!.routingKeys).to.deep.equal(['order.created']);
    expect(consumers[0]!.parameterTypes[0]).to.equal(OrderCreated);
    expect(consumers[1]!.routingKeys).to.deep.equal(['order.picture', 'order.photo']);
    expect(consumers[1]!.parameterTypes[0]).to.equal(Buffer);
  });

  it('keeps metadata on the class, so a subclass inherits its parent\'s consumers', () => {
    class ExtendedBilling extends FixtureBilling {}
    const consumers = getConsumers(ExtendedBilling);
    expect(consumers).to.have.length(2);
    expect(consumers[0]!.handlerClass).to.equal(ExtendedBilling);
  });

  it('records a @Publisher with its exchange and its routes', () => {
    expect(getPublisher(FixtureOrderEvents)?.exchange).to.equal('fixture-orders');
    const routes = getPublisherRoutes(FixtureOrderEvents);
    expect(routes.map((r) => [r.property, r.route.routingKey])).to.deep.equal([['created', 'order.created'], ['picture', 'order.picture']]);
    expect(routes[0]!.route.type).to.equal(OrderCreated);
  });

  it('refuses to send through a route that no app has bound', async () => {
    const events = new FixtureOrderEvents();
    expect(() => events.created({ orderId: 'x', items: [] })).to.throw(/not bound to a running Warren app/);
  });
});
