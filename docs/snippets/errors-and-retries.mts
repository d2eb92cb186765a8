// The code blocks of docs/errors-and-retries.md, compiled; docs.test.ts checks each region equals its block.
import { injectable } from 'tsyringe';
import { Consumer, WarrenError } from '@warren/core';

declare class OrderCreated { orderId: string; }
declare const ledger: { charge(order: OrderCreated): Promise<void> };

// #region errors-and-retries-1
class OutOfStock extends WarrenError {
  constructor(sku: string) { super('OUT_OF_STOCK', `${sku} is out of stock`, { permanent: true }); }
}
// #endregion errors-and-retries-1

// #region errors-and-retries-2
@injectable()
export class Billing {
  @Consumer('orders', 'order.created', { retry: { attempts: 5, delay: 1000, backoff: 'exponential', maxDelay: 60_000 } })
  async charge(order: OrderCreated) { await ledger.charge(order); }
}
// #endregion errors-and-retries-2
