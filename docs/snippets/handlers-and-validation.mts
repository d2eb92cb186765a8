// The code blocks of docs/handlers-and-validation.md, compiled; docs.test.ts checks each region equals its block.
import { injectable } from 'tsyringe';
import { Consumer, MessageContext, Publisher, route } from '@warren/core';

declare class OrderCreated { orderId: string; }
declare class OrderEvents {}
declare class Ledger { charge(orderId: string, messageId?: string): Promise<void>; }
declare class OrderPlaced { orderId: string; }
declare class OrderCancelled { orderId: string; reason: string; }
declare class OrderNote { text: string; }
declare const ledger: { open(id: string): Promise<void>; close(id: string, reason: string): Promise<void>; log(event: unknown): void };

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

// #region handlers-and-validation-2
const orders = { queue: 'billing.orders', exchangeType: 'topic', prefetch: 50 } as const;  // the queue's settings, shared

@injectable()
export class OrderBilling {
  @Consumer('orders', 'order.placed', orders)                  // an exact key
  async placed(order: OrderPlaced) { await ledger.open(order.orderId); }

  @Consumer('orders', 'order.cancelled', { ...orders, retry: { attempts: 3 } })  // its own retry policy
  async cancelled(order: OrderCancelled) { await ledger.close(order.orderId, order.reason); }

  @Consumer('orders', 'order.*', { ...orders, message: Object })  // every other order.<one word>
  async other(event: Record<string, unknown>, ctx: MessageContext) { ledger.log({ key: ctx.routingKey, event }); }

  @Consumer('orders', 'order.#', { ...orders, type: 'OrderNote' })  // by the AMQP type property
  async note(note: OrderNote) { ledger.log(note.text); }
}

@Publisher('orders', { type: 'topic' })
export class OrderNotes {
  readonly add = route('order.note.added', OrderNote, { type: 'OrderNote' });  // sets the type property
}
// #endregion handlers-and-validation-2
