import { IsInt, IsString, IsUUID, Length, Min } from 'class-validator';
import { Publisher, route } from '@warren/core';

export class OrderPlaced {
  @IsUUID() orderId!: string;
  @IsString() @Length(1, 100) customer!: string;
  @IsInt() @Min(1) totalCents!: number;
}

export class InvoiceIssued {
  @IsUUID() orderId!: string;
  @IsString() @Length(1, 40) invoiceNumber!: string;
}

/** Events of the orders service, on the topic exchange `orders-pg`. */
@Publisher('orders-pg', { type: 'topic' })
export class OrderEvents {
  readonly placed = route('order.placed', OrderPlaced);
  readonly invoiced = route('invoice.issued', InvoiceIssued);
}
