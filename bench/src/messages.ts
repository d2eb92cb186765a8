import { randomUUID } from 'node:crypto';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize, ArrayMinSize, IsEmail, IsIn, IsInt, IsISO8601, IsNumber, IsOptional, IsString, IsUUID, Length, MaxLength,
  Min, ValidateNested,
} from 'class-validator';

/**
 * The payloads of every scenario: an order event of 8 fields with a nested address and an array of
 * line items (the shape issue 6 measured class-validator on). "Small" carries 3 items, "large" 20;
 * both use only built-in decorators, so Warren's compiled validator covers them.
 */

export class Address {
  @IsString() @Length(1, 200) street!: string;
  @IsString() @Length(1, 100) city!: string;
  @IsString() @Length(2, 2) country!: string;
  @IsString() @Length(3, 12) postcode!: string;
}

export class LineItem {
  @IsString() @Length(1, 64) sku!: string;
  @IsInt() @Min(1) qty!: number;
  @IsNumber() @Min(0) unitPrice!: number;
  @IsOptional() @IsString() @MaxLength(500) description?: string;
}

export class OrderPlaced {
  @IsUUID() orderId!: string;
  @IsUUID() customerId!: string;
  @IsEmail() email!: string;
  @IsISO8601() placedAt!: string;
  @IsIn(['EUR', 'USD', 'GBP']) currency!: string;
  @IsNumber() @Min(0) total!: number;
  @IsOptional() @IsString() @MaxLength(2000) note?: string;
  @ValidateNested() @Type(() => Address) shipping!: Address;
  @ArrayMinSize(1) @ArrayMaxSize(100) @ValidateNested({ each: true }) @Type(() => LineItem) items!: LineItem[];
}

/** The reply of the request/reply scenario. */
export class OrderQuote {
  @IsUUID() orderId!: string;
  @IsNumber() total!: number;
}

export type PayloadSize = 'small' | 'large';

/** Items per payload size: issue 6's small (3 line items) and large (20) DTOs. */
export const ITEMS: Record<PayloadSize, number> = { small: 3, large: 20 };

/** One valid order as plain JSON data. Small orders carry longer texts so both sizes are about 1 KB or more. */
export function orderPayload(size: PayloadSize): OrderPlaced {
  const long = size === 'small';
  const items: LineItem[] = Array.from({ length: ITEMS[size] }, (_, i) => ({
    sku: `SKU-${String(10_000 + i)}`,
    qty: 1 + (i % 5),
    unitPrice: 9.95 + i,
    description: long ? `Stainless steel widget, model ${i}, with the extended warranty and the wall-mounting kit included in the box.` : `item ${i}`,
  }));
  return {
    orderId: randomUUID(),
    customerId: randomUUID(),
    email: 'jane.doe@example.com',
    placedAt: new Date().toISOString(),
    currency: 'EUR',
    total: items.reduce((sum, item) => sum + item.qty * item.unitPrice, 0),
    note: long ? 'Please leave the parcel with the neighbour at number 12 if nobody answers the door; call ahead on weekends. '.repeat(2) : 'leave at door',
    shipping: { street: '221B Baker Street', city: 'London', country: 'GB', postcode: 'NW1 6XE' },
    items,
  };
}

/** A pool of distinct payloads, cycled through so no side benefits from sending one object again and again. */
export function payloadPool(size: PayloadSize, count = 64): OrderPlaced[] {
  return Array.from({ length: count }, () => orderPayload(size));
}

/** The wire size of a payload of this size, for the table. */
export function bodyBytes(size: PayloadSize): number {
  return Buffer.byteLength(JSON.stringify(orderPayload(size)));
}
