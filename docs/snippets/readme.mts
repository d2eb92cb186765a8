// The code blocks of README.md, compiled; docs.test.ts checks each region equals its block.

// #region readme
import 'reflect-metadata';
import { IsInt, IsString, IsUUID, Min } from 'class-validator';
import { injectable } from 'tsyringe';
import { Consumer, MessageContext, Publisher, route, Warren } from '@warren/core';

export class OrderCreated {
  @IsUUID() orderId!: string;
  @IsString() sku!: string;
  @IsInt() @Min(1) qty!: number;
}

@Publisher('orders')                      // a durable direct exchange
export class OrderEvents {
  readonly created = route('order.created', OrderCreated);
}

@injectable()
export class Billing {
  @Consumer('orders', 'order.created', { queue: 'billing.order-created', retry: { attempts: 3, delay: 1000 } })
  async charge(order: OrderCreated, ctx: MessageContext) {
    console.log(`charging ${order.orderId} (attempt ${ctx.attempt})`);
  }
}

const app = await Warren.start({ url: process.env.AMQP_URL, handlers: [Billing] });
await app.get(OrderEvents).created({ orderId: crypto.randomUUID(), sku: 'BOOK-1', qty: 2 });
// #endregion readme
