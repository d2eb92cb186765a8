import 'reflect-metadata';
import { expect } from 'chai';
import { PayloadValidationError, RemoteError } from '@warren/core';
import { TestApp } from '@warren/testing';
import { Pricing, PricingHandlers } from '../src/handlers';
import { afterEachCleanup } from './support/cleanup';

/** The error a promise rejects with (fails the test when it resolves). */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

describe('rpc-service: quotes over request / reply', () => {
  let t: TestApp;

  beforeEach(async () => {
    t = await TestApp.create({ handlers: [PricingHandlers] });
  });
  afterEachCleanup('close the test app', () => t.close());

  it('answers a quote request with the handler\'s return value, validated as a Quote', async () => {
    const quote = await t.get(Pricing).quote.request({ sku: 'BOOK-1', qty: 2 });
    expect(quote).to.deep.include({ sku: 'BOOK-1', qty: 2, unitCents: 1250, discountPercent: 0, totalCents: 2500 });
  });

  it('takes 10 % off from 10 units', async () => {
    const quote = await t.get(Pricing).quote.request({ sku: 'PEN-1', qty: 12 });
    expect(quote.discountPercent).to.equal(10);
    expect(quote.totalCents).to.equal(Math.round(199 * 12 * 0.9));
  });

  it('sends an unknown product back as a typed error reply at once, not a timeout', async () => {
    const started = Date.now();
    const error = await rejection(t.get(Pricing).quote.request({ sku: 'NOPE-1', qty: 1 }, { timeoutMs: 4000 }));
    expect(error).to.be.instanceOf(RemoteError);
    expect((error as RemoteError).remoteCode).to.equal('UNKNOWN_SKU');
    expect((error as RemoteError).message).to.contain('No price for "NOPE-1"');
    expect(Date.now() - started).to.be.below(2000);
  });

  it('refuses an invalid request before it is sent', async () => {
    const error = await rejection(t.get(Pricing).quote.request({ sku: 'BOOK-1', qty: 0 }));
    expect(error).to.be.instanceOf(PayloadValidationError);
    expect(t.published({ routingKey: 'quote.get' })).to.be.empty;
  });

  it('dead-letters an invalid request from a caller that does not validate, with the reason', async () => {
    const outcome = await t.publish('pricing', 'quote.get', { sku: 'BOOK-1', qty: 'two' });
    expect(outcome.status).to.equal('dead-lettered');
    const [dead] = await t.deadLetters('pricing.quotes');
    expect(String(dead?.headers['x-warren-error-details'])).to.contain('qty');
  });
});
