// The code blocks of docs/migrating-from-nestjs.md, compiled; docs.test.ts checks each region equals its block.
import { Type } from 'class-transformer';
import { IsString, ValidateNested } from 'class-validator';
import { injectable } from 'tsyringe';
import { Consumer, Publisher, route, type Warren } from '@warren/core';
// The "before" blocks use NestJS and @golevelup/nestjs-rabbitmq, which this repository does not
// install: nestjs-stubs.d.ts declares the few names they use, as those packages export them.
import { Injectable } from '@nestjs/common';
import { AmqpConnection, Nack, RabbitSubscribe } from '@golevelup/nestjs-rabbitmq';

declare class OrderCreated { orderId: string; items: unknown[]; }
declare class Ledger { charge(orderId: string): Promise<void>; }
declare const amqpConnection: AmqpConnection;
declare const app: Warren;
declare const orderId: string;
declare const items: unknown[];

// #region nestjs-before-subscriber
@Injectable()
export class BillingService {
  constructor(private readonly ledger: Ledger) {}

  @RabbitSubscribe({ exchange: 'orders', routingKey: 'order.created', queue: 'billing.order-created' })
  async charge(msg: OrderCreated): Promise<Nack | void> {
    if (!msg.orderId) return new Nack(false);   // hand-written validation, then drop
    await this.ledger.charge(msg.orderId);
  }
}
// #endregion nestjs-before-subscriber

// #region nestjs-after-subscriber
@injectable()
export class Billing {
  constructor(private readonly ledger: Ledger) {}

  @Consumer('orders', 'order.created', { queue: 'billing.order-created', retry: { attempts: 3, delay: 1000 } })
  async charge(order: OrderCreated): Promise<void> {
    await this.ledger.charge(order.orderId);     // order is a validated OrderCreated instance
  }
}
// #endregion nestjs-after-subscriber

// #region nestjs-before-publish
await amqpConnection.publish('orders', 'order.created', { orderId, items });
// #endregion nestjs-before-publish

// #region nestjs-after-publish
@Publisher('orders')
export class OrderEvents {
  readonly created = route('order.created', OrderCreated);
}

await app.get(OrderEvents).created({ orderId, items });
// #endregion nestjs-after-publish

// #region nestjs-envelope
export class NestEnvelope {
  @IsString() pattern!: string;
  @ValidateNested() @Type(() => OrderCreated) data!: OrderCreated;
}
// #endregion nestjs-envelope
