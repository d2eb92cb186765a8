// docs/getting-started.md, step 2: compiled and tested as a project outside the repository by docs.test.ts.
// #region getting-started-messages
import { Type } from 'class-transformer';
import { ArrayNotEmpty, IsInt, IsString, IsUUID, Min, ValidateNested } from 'class-validator';

export class LineItem {
  @IsString() sku!: string;
  @IsInt() @Min(1) qty!: number;
}

export class OrderCreated {
  @IsUUID() orderId!: string;
  @ArrayNotEmpty() @ValidateNested({ each: true }) @Type(() => LineItem) items!: LineItem[];
}
// #endregion getting-started-messages
