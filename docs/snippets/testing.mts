// The code blocks of docs/testing.md, compiled; docs.test.ts checks each region equals its block.
import 'reflect-metadata';
import { expect } from 'chai';
import { Type } from 'class-transformer';
import { ArrayNotEmpty, IsInt, IsString, IsUUID, Min, ValidateNested } from 'class-validator';
import { injectable } from 'tsyringe';
import { Consumer, Publisher, route } from '@warren/core';
import { TestApp } from '@warren/testing';

class LineItem {
  @IsString() sku!: string;
  @IsInt() @Min(1) qty!: number;
}

class OrderCreated {
  @IsUUID() orderId!: string;
  @ArrayNotEmpty() @ValidateNested({ each: true }) @Type(() => LineItem) items!: LineItem[];
}

@Publisher('orders')
class OrderEvents {
  readonly created = route('order.created', OrderCreated);
}

/** The real one talks to the accounting system; the tests provide a fake. */
class Ledger {
  async charge(orderId: string): Promise<void> { console.log(`charging ${orderId}`); }
}

@injectable()
class Billing {
  constructor(private readonly ledger: Ledger) {}

  @Consumer('orders', 'order.created', { queue: 'billing.order-created' })
  async charge(order: OrderCreated): Promise<void> {
    await this.ledger.charge(order.orderId);
  }
}

declare const t: TestApp;

// #region testing-billing
describe('Billing', () => {
  let charged: string[];
  let t: TestApp;

  beforeEach(async () => {
    charged = [];
    const ledger = { charge: async (orderId: string) => { charged.push(orderId); } };
    t = await TestApp.create({ handlers: [Billing], providers: [{ provide: Ledger, useValue: ledger }] });
  });
  afterEach(() => t.close());

  it('charges a valid order', async () => {
    const outcome = await t.publish('orders', 'order.created', { orderId: 'b9c3e4a2-8f1d-4c55-9a41-2d8e7f6b1c03', items: [{ sku: 'A-1', qty: 2 }] });
    expect(outcome.status).to.equal('handled');
    expect(charged).to.deep.equal(['b9c3e4a2-8f1d-4c55-9a41-2d8e7f6b1c03']);
  });

  it('dead-letters an invalid order, with the reason in its headers', async () => {
    const outcome = await t.publish('orders', 'order.created', { orderId: 'nope', items: [] });
    expect(outcome.status).to.equal('dead-lettered');
    expect(outcome.error?.code).to.equal('VALIDATION_FAILED');
    const [dead] = await t.deadLetters('billing.order-created');
    expect(String(dead?.headers['x-warren-error-details'])).to.contain('orderId');
  });
});
// #endregion testing-billing

// #region testing-published
await t.get(OrderEvents).created({ orderId: 'b9c3e4a2-8f1d-4c55-9a41-2d8e7f6b1c03', items: [{ sku: 'A-1', qty: 1 }] });
await t.idle();
const [sent] = t.published({ exchange: 'orders', routingKey: 'order.created' });
expect(sent?.payload).to.deep.equal({ orderId: 'b9c3e4a2-8f1d-4c55-9a41-2d8e7f6b1c03', items: [{ sku: 'A-1', qty: 1 }] });
// #endregion testing-published
