import { IsInt, IsString, Length, Max, Min } from 'class-validator';

/** Money moved on an account: published as `account.deposited` or `account.withdrawn`. */
export class MoneyMoved {
  @IsString() @Length(1, 64) accountId!: string;
  /** Whole cents, so sums are exact. */
  @IsInt() @Min(1) @Max(1_000_000_00) cents!: number;
}
