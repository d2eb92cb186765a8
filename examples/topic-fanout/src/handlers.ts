import { injectable, singleton } from 'tsyringe';
import { Consumer, MessageContext, Publisher, route } from '@warren/core';
import { AuditEntry, DomainEvent } from './messages';

// Both names can be changed per environment (and per test run).
const EVENTS = '${EVENTS_EXCHANGE:-events}';
const AUDIT = '${AUDIT_EXCHANGE:-audit}';

/** Order events. Topic exchanges do not require a receiver, so these publishes are not mandatory. */
@Publisher(EVENTS, { type: 'topic' })
export class OrderEvents {
  readonly created = route('order.created', DomainEvent);
  readonly cancelled = route('order.cancelled', DomainEvent);
  readonly shipmentDelayed = route('order.shipment.delayed', DomainEvent);
}

@Publisher(EVENTS, { type: 'topic' })
export class PaymentEvents {
  readonly cancelled = route('payment.cancelled', DomainEvent);
}

@Publisher(AUDIT, { type: 'fanout' })
export class AuditTrail {
  readonly record = route('', AuditEntry);
}

/** Which service saw which routing key, in order: what the tests (and the demo) look at. */
@singleton()
export class Deliveries {
  readonly seen: string[] = [];

  record(service: string, routingKey: string): void {
    this.seen.push(`${service} ← ${routingKey}`);
  }

  /** The routing keys one service received. */
  of(service: string): string[] {
    return this.seen.filter((line) => line.startsWith(`${service} ← `)).map((line) => line.slice(service.length + 3));
  }
}

/** `order.*`: exactly two words — order.created and order.cancelled, not order.shipment.delayed. */
@injectable()
export class Shipping {
  constructor(private readonly deliveries: Deliveries) {}

  @Consumer(EVENTS, 'order.*', { exchangeType: 'topic', queue: `${EVENTS}.shipping` })
  async onOrder(_event: DomainEvent, ctx: MessageContext): Promise<void> {
    this.deliveries.record('shipping', ctx.routingKey);
  }
}

/** `order.#`: every order event, however many words. */
@injectable()
export class Analytics {
  constructor(private readonly deliveries: Deliveries) {}

  @Consumer(EVENTS, 'order.#', { exchangeType: 'topic', queue: `${EVENTS}.analytics` })
  async onOrder(_event: DomainEvent, ctx: MessageContext): Promise<void> {
    this.deliveries.record('analytics', ctx.routingKey);
  }
}

/** `#.cancelled`: cancellations of anything; each one is written to the audit trail. */
@injectable()
export class Support {
  constructor(private readonly deliveries: Deliveries, private readonly audit: AuditTrail) {}

  @Consumer(EVENTS, '#.cancelled', { exchangeType: 'topic', queue: `${EVENTS}.support` })
  async onCancelled(event: DomainEvent, ctx: MessageContext): Promise<void> {
    this.deliveries.record('support', ctx.routingKey);
    await this.audit.record({ action: 'cancellation-reviewed', routingKey: ctx.routingKey, orderId: event.orderId, at: new Date().toISOString() });
  }
}

/** Two independent readers of the fanout exchange: each gets its own copy of every entry. */
@injectable()
export class AuditReaders {
  constructor(private readonly deliveries: Deliveries) {}

  @Consumer(AUDIT, '', { exchangeType: 'fanout', queue: `${AUDIT}.compliance` })
  async archive(entry: AuditEntry): Promise<void> {
    this.deliveries.record('compliance', entry.routingKey);
  }

  @Consumer(AUDIT, '', { exchangeType: 'fanout', queue: `${AUDIT}.security` })
  async watch(entry: AuditEntry): Promise<void> {
    this.deliveries.record('security', entry.routingKey);
  }
}

/** Every handler class of the example's services. */
export const HANDLERS = [Shipping, Analytics, Support, AuditReaders];
