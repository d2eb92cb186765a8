// The code blocks of docs/publishing.md, compiled; docs.test.ts checks each region equals its block.
import { Consumer, MessageContext, Publisher, route, Warren } from '@warren/core';

declare class OrderCreated { orderId: string; }
declare class QuoteRequest { sku: string; }
declare class Quote { cents: number; }
declare const events: OrderEvents;
declare const order: OrderCreated;
declare const req: { id: string };
declare class Login { user: string; }
declare const audit: { write(user: string, exchange: string): void };

// #region publishing-1
@Publisher('orders', { type: 'direct' })       // options: type, exchange: { durable, autoDelete, arguments }, mandatory, confirm, validate, timeoutMs, bindings
export class OrderEvents {
  readonly created = route('order.created', OrderCreated);
  readonly photo = route('order.photo', Buffer);          // raw bytes, application/octet-stream
  readonly note = route('order.note', String);            // text/plain; charset=utf-8
  readonly quote = route('order.quote', QuoteRequest, { reply: Quote });
}
// #endregion publishing-1

// #region publishing-2
await events.created(order, { headers: { tenant: 'acme' }, correlationId: req.id, expiration: 60_000 });
// #endregion publishing-2

// #region publishing-3
@Publisher('security', { type: 'topic', bindings: [{ destination: 'audit', routingKey: 'login.#' }] })
export class SecurityEvents {
  readonly login = route('login.succeeded', Login);
}

export class AuditLog {
  @Consumer('audit', '#', { exchangeType: 'topic', queue: 'audit.log' })
  async record(login: Login, ctx: MessageContext) { audit.write(login.user, ctx.exchange); }  // ctx.exchange: 'security'
}

await Warren.start({
  handlers: [AuditLog],
  publishers: [SecurityEvents],
  topology: {
    exchanges: [{ name: 'archive', type: 'fanout' }],
    bindings: [{ source: 'audit', destination: 'archive', routingKey: '#' }],
  },
});
// #endregion publishing-3
