import { IsInt, IsString, Length, Max, Min } from 'class-validator';

/** Asks the pricing service what `qty` units of `sku` cost. */
export class QuoteRequest {
  @IsString() @Length(1, 64) sku!: string;
  @IsInt() @Min(1) @Max(10_000) qty!: number;
}

/** The reply to a {@link QuoteRequest}: validated by the caller like any incoming message. */
export class Quote {
  @IsString() sku!: string;
  @IsInt() @Min(1) qty!: number;
  @IsInt() @Min(0) unitCents!: number;
  @IsInt() @Min(0) @Max(100) discountPercent!: number;
  @IsInt() @Min(0) totalCents!: number;
}
