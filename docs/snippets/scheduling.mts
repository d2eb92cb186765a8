// The code blocks of docs/scheduling.md, compiled; docs.test.ts checks each region equals its block.
import { injectable } from 'tsyringe';
import { Consumer, InvalidDelayError, Publisher, retryLater, route } from '@warren/core';
import { TestApp } from '@warren/testing';
import { expect } from 'chai';

declare class InvoiceDue { invoiceId: string; }
declare const invoice: { id: string; dueAt: Date };
declare const reminders: Reminders;
declare const t: TestApp;
declare const stock: { has(sku: string): boolean };

// #region scheduling-1
@Publisher('billing')
export class Reminders {
  readonly due = route('invoice.due', InvoiceDue);
}

await reminders.due({ invoiceId: invoice.id }, { delay: 15 * 60_000 });  // in 15 minutes
await reminders.due({ invoiceId: invoice.id }, { at: invoice.dueAt });     // at a time (now, if it has passed)
// #endregion scheduling-1

// #region scheduling-2
try {
  await reminders.due({ invoiceId: invoice.id }, { delay: 60 * 86_400_000 });
} catch (error) {
  if (error instanceof InvalidDelayError) console.log(error.code); // INVALID_DELAY: 60 days is more than 4,294,967,295 ms
}
// #endregion scheduling-2

// #region scheduling-3
@injectable()
export class Restocking {
  @Consumer('orders', 'order.created', { retry: { attempts: 5, delay: 2_000 } })
  async reserve(order: { sku: string }) {
    if (!stock.has(order.sku)) throw retryLater(137_000, 'waiting for the next delivery'); // waits exactly 137 s
  }
}
// #endregion scheduling-3

// #region scheduling-4
await t.get(Reminders).due({ invoiceId: 'inv-1' }, { delay: 500 });
const [sent] = t.published({ exchange: 'billing', routingKey: 'invoice.due' });
expect(sent?.delayMs).to.be.at.most(500);  // listed by its destination, with its delay
await t.idle();                            // waits for the delayed message too
// #endregion scheduling-4
