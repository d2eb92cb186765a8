// docs/getting-started.md, step 6.
// #region getting-started-test
import 'reflect-metadata';
import { expect } from 'chai';
import { TestApp } from '@warren/testing';
import { Billing, Ledger } from '../src/billing';

describe('Billing', () => {
  const charged: string[] = [];
  const fakeLedger = { charge: async (orderId: string) => { charged.push(orderId); } };
  let t: TestApp;

  beforeEach(async () => {
    charged.length = 0;
    t = await TestApp.create({ handlers: [Billing], providers: [{ provide: Ledger, useValue: fakeLedger }] });
  });
  afterEach(() => t.close());

  it('charges a valid order', async () => {
    const orderId = '0b6f2c4e-8a1d-4c3e-9f5a-2d7b1e6c4a90';
    const outcome = await t.publish('orders', 'order.created', { orderId, items: [{ sku: 'BOOK-1', qty: 2 }] });
    expect(outcome.status).to.equal('handled');
    expect(charged).to.deep.equal([orderId]);
  });

  it('dead-letters an invalid order without charging', async () => {
    const outcome = await t.publish('orders', 'order.created', { orderId: 'nope', items: [] });
    expect(outcome.status).to.equal('dead-lettered');
    expect(charged).to.deep.equal([]);
  });
});
// #endregion getting-started-test
