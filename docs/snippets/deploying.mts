// The code blocks of docs/deploying.md, compiled; docs.test.ts checks each region equals its block.
import { injectable } from 'tsyringe';
import { Consumer } from '@warren/core';

declare class OrderCreated { orderId: string; }
declare class EntryPosted { entryId: string; }
declare const ledger: { charge(order: OrderCreated): Promise<void> };
declare const journal: { append(entry: EntryPosted): Promise<void> };

// #region deploying-quorum
@injectable()
export class Billing {
  @Consumer('orders', 'order.created', { queue: 'billing.order-created', queueType: 'quorum' })
  async charge(order: OrderCreated) { await ledger.charge(order); }
}
// #endregion deploying-quorum

// #region deploying-single-active
@injectable()
export class Ledger {
  @Consumer('accounts', 'entry.posted', {
    queue: 'ledger.entries',
    queueType: 'quorum',
    singleActiveConsumer: true,
    prefetch: 1,
    concurrency: 1,
  })
  async post(entry: EntryPosted) { await journal.append(entry); }
}
// #endregion deploying-single-active
