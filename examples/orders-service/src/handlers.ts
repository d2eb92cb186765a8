import { injectable } from 'tsyringe';
import { Consumer, MessageContext, Publisher, route } from '@warren/core';
import { OrderCreated } from './messages';

/** The seed's publisher: a "Hello" text message and OrderCreated events on the direct exchange `orders`. */
@Publisher('orders')
export class OrderEvents {
  readonly hello = route('greeting.hello', String);
  readonly created = route('order.created', OrderCreated);
}

/** Where handled orders go; replace it in tests with a fake. */
@injectable()
export class OrderBook {
  readonly orders: OrderCreated[] = [];
  readonly greetings: string[] = [];
  record(order: OrderCreated): void { this.orders.push(order); }
}

/** The seed's receiving service: prints greetings, validates and records orders. */
@injectable()
export class OrderHandlers {
  constructor(private readonly book: OrderBook) {}

  @Consumer('orders', 'greeting.hello', { queue: 'orders.greetings' })
  async greet(text: string, ctx: MessageContext): Promise<void> {
    this.book.greetings.push(text);
    console.log(`received greeting "${text}" (message ${ctx.messageId})`);
  }

  @Consumer('orders', 'order.created', { queue: 'orders.order-created' })
  async orderCreated(order: OrderCreated, ctx: MessageContext): Promise<void> {
    this.book.record(order);
    const units = order.items.reduce((n, item) => n + item.qty, 0);
    console.log(`order ${order.orderId}: ${order.items.length} line(s), ${units} unit(s) (attempt ${ctx.attempt})`);
  }
}
