// The code blocks of docs/handlers-and-validation.md, compiled; docs.test.ts checks each region equals its block.
import { injectable } from 'tsyringe';
import { Consumer, MessageContext } from '@warren/core';

declare class OrderCreated { orderId: string; }
declare class OrderEvents {}
declare class Ledger { charge(orderId: string, messageId?: string): Promise<void>; }

// #region handlers-and-validation-1
@injectable()
export class Billing {
  constructor(private readonly ledger: Ledger, private readonly events: OrderEvents) {}

  @Consumer('orders', 'order.created', {
    queue: 'billing.order-created',   // default: <exchange>.<Class>.<method>
    prefetch: 50, concurrency: 10,    // defaults 20 / 10; prefetch must be ≥ concurrency
    retry: { attempts: 3, delay: 1000, backoff: 'exponential' },
  })
  async charge(order: OrderCreated, ctx: MessageContext): Promise<void> {
    await this.ledger.charge(order.orderId, ctx.messageId);
  }
}
// #endregion handlers-and-validation-1
