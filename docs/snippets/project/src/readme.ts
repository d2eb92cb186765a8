// README.md's example: compiled as a file of a project outside the repository by docs.test.ts.
// #region readme
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
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

async function main() {
  const app = await Warren.run({ name: 'billing', handlers: [Billing], publishers: [OrderEvents] });
  await app.get(OrderEvents).created({ orderId: randomUUID(), sku: 'BOOK-1', qty: 2 });
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
// #endregion readme
