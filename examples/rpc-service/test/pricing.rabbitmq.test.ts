import 'reflect-metadata';
import { expect } from 'chai';
import { AmqpTransport, RemoteError, silentLogger, Warren } from '@warren/core';
import { Pricing, PricingHandlers } from '../src/handlers';
import { AMQP_URL, describeWithBroker, uniqueName } from './support/broker';
import { afterCleanup } from './support/cleanup';

describeWithBroker('rpc-service', () => {
  const env = { PRICING_EXCHANGE: uniqueName('pricing') };
  let app: Warren;

  before(async () => {
    app = await Warren.start({ url: AMQP_URL, env, handlers: [PricingHandlers], logger: silentLogger });
  });
  afterCleanup('delete the topology, close the app', async () => {
    if (!app) return; // skipped: no broker
    // Close first: a consumer still attached re-declares a queue deleted under it.
    await app.close();
    const admin = new AmqpTransport({ url: AMQP_URL });
    await admin.connect();
    try {
      for (const queue of ['quotes', 'quotes.dlq', 'quotes.redelivered']) await admin.deleteQueue(`${env.PRICING_EXCHANGE}.${queue}`).catch(() => undefined);
      await admin.deleteExchange(env.PRICING_EXCHANGE).catch(() => undefined);
    } finally {
      await admin.close();
    }
  });

  it('answers quotes and sends unknown products back as error replies, through direct reply-to', async () => {
    const pricing = app.get(Pricing);
    const quote = await pricing.quote.request({ sku: 'PEN-1', qty: 10 }, { timeoutMs: 5000 });
    expect(quote.totalCents).to.equal(Math.round(199 * 10 * 0.9));
    let error: unknown;
    try {
      await pricing.quote.request({ sku: 'NOPE-1', qty: 1 }, { timeoutMs: 5000 });
    } catch (caught) {
      error = caught;
    }
    expect(error).to.be.instanceOf(RemoteError);
    expect((error as RemoteError).remoteCode).to.equal('UNKNOWN_SKU');
  });
});
