// The code blocks of docs/getting-started.md, compiled; docs.test.ts checks each region equals its block.
import { expect } from 'chai';

declare class Ledger { charge(orderId: string, messageId?: string): Promise<void>; }
declare const fakeLedger: Ledger;

// #region getting-started-1
import { Type } from 'class-transformer';
import { ArrayNotEmpty, IsInt, IsString, IsUUID, Min, ValidateNested } from 'class-validator';

export class LineItem {
  @IsString() sku!: string;
  @IsInt() @Min(1) qty!: number;
}

export class OrderCreated {
  @IsUUID() orderId!: string;
  @ArrayNotEmpty() @ValidateNested({ each: true }) @Type(() => LineItem) items!: LineItem[];
}
// #endregion getting-started-1

// #region getting-started-2
import { Publisher, route } from '@warren/core';

@Publisher('orders')                 // durable direct exchange "orders"
export class OrderEvents {
  readonly created = route('order.created', OrderCreated);
  readonly hello = route('greeting.hello', String);
}
// #endregion getting-started-2

// #region getting-started-3
import { injectable } from 'tsyringe';
import { Consumer, MessageContext } from '@warren/core';

@injectable()
export class Billing {
  constructor(private readonly ledger: Ledger) {}

  @Consumer('orders', 'order.created', { queue: 'billing.order-created' })
  async charge(order: OrderCreated, ctx: MessageContext) {
    await this.ledger.charge(order.orderId, ctx.messageId);
  }
}
// #endregion getting-started-3

// #region getting-started-4
import 'reflect-metadata';
import { Warren } from '@warren/core';

Warren.run({ name: 'billing', handlers: [Billing] });   // stops gracefully on SIGINT / SIGTERM
// #endregion getting-started-4

// #region getting-started-5
import { TestApp } from '@warren/testing';

const t = await TestApp.create({ handlers: [Billing], providers: [{ provide: Ledger, useValue: fakeLedger }] });
const outcome = await t.publish('orders', 'order.created', { orderId: 'nope', items: [] });
expect(outcome.status).to.equal('dead-lettered');
// #endregion getting-started-5
