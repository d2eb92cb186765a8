import { Type } from 'class-transformer';
import { ArrayNotEmpty, IsInt, IsString, IsUUID, Length, Min, ValidateNested } from 'class-validator';

/** One line of an order. */
export class LineItem {
  @IsString() @Length(1, 64) sku!: string;
  @IsInt() @Min(1) qty!: number;
}

/** Published on exchange `orders` with routing key `order.created`. */
export class OrderCreated {
  @IsUUID() orderId!: string;
  @ArrayNotEmpty() @ValidateNested({ each: true }) @Type(() => LineItem) items!: LineItem[];
}
