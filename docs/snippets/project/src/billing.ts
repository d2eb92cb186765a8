// docs/getting-started.md, step 4.
// #region getting-started-consumer
import { injectable, singleton } from 'tsyringe';
import { Consumer, MessageContext } from '@warren/core';
import { OrderCreated } from './messages';

/** Stands in for your accounting system; tests replace it with a fake. */
@singleton()
export class Ledger {
  async charge(orderId: string, messageId?: string): Promise<void> {
    console.log(`charged order ${orderId} (message ${messageId})`);
  }
}

@injectable()
export class Billing {
  constructor(private readonly ledger: Ledger) {}

  @Consumer('orders', 'order.created', { queue: 'billing.order-created' })
  async charge(order: OrderCreated, ctx: MessageContext) {
    await this.ledger.charge(order.orderId, ctx.messageId);
  }
}
// #endregion getting-started-consumer
