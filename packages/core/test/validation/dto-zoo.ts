import 'reflect-metadata';
import { Type } from 'class-transformer';
import {
  Allow, ArrayContains, ArrayMaxSize, ArrayNotContains, ArrayMinSize, ArrayNotEmpty, ArrayUnique, Contains, Equals, IsAlpha, IsAlphanumeric, IsArray,
  IsBoolean, IsDate, IsDateString, IsDefined, IsDivisibleBy, IsEmail, IsEmpty, IsEnum, IsHexColor, IsIn, IsInstance, IsInt, IsISO8601, IsLatLong, IsNotEmptyObject, IsPort,
  IsNegative, IsNotEmpty, IsNumber, IsObject, IsOptional, IsPositive, IsString, IsUppercase, IsUrl, IsUUID, Length, Matches,
  Max, MaxDate, MaxLength, Min, MinDate, MinLength, NotEquals, Validate, ValidateNested, ValidatorConstraint,
  type ValidatorConstraintInterface,
} from 'class-validator';
import type { Random } from './payloads';

/**
 * A zoo of payload classes for the differential test: every decorator the compiled path claims to
 * reproduce, nesting three levels deep, arrays of nested objects, optional fields, enums, `each: true`,
 * string formats, defaults from initialisers, inheritance, recursion, and one class that must fall back.
 * Each comes with a generator of valid payloads that likes boundary values, for mutations to break.
 */

export enum Currency { EUR = 'EUR', USD = 'USD', JPY = 'JPY' }
export enum Priority { Low = 1, High = 5 }

export class Address {
  @IsString() @Length(1, 80) street!: string;
  @IsString() @IsNotEmpty() city!: string;
  @Matches(/^\d{5}$/) postcode!: string;
  @IsIn(['DE', 'FR', 'NL']) country!: string;
  @IsOptional() @IsString() @MaxLength(40) line2?: string;
}

export class Customer {
  @IsUUID('4') id!: string;
  @IsEmail() email!: string;
  @IsString() @MinLength(2) @MaxLength(50) name!: string;
  @ValidateNested() @Type(() => Address) address!: Address;
  @IsOptional() @IsString() phone?: string;
  @IsBoolean() vip!: boolean;
}

export class LineItem {
  @Matches(/^[A-Z]{3}-\d{3}$/) sku!: string;
  @IsInt() @Min(1) @Max(99) qty!: number;
  @IsNumber({ maxDecimalPlaces: 2 }) @IsPositive() price!: number;
  @IsOptional() @IsNumber() @Min(0) @Max(100) discount?: number;
  @IsArray() @IsString({ each: true }) @ArrayMaxSize(3) tags!: string[];
}

export class OrderPlaced {
  @IsUUID() orderId!: string;
  @ValidateNested() @Type(() => Customer) customer!: Customer;
  @ValidateNested({ each: true }) @ArrayMinSize(1) @ArrayMaxSize(20) @Type(() => LineItem) items!: LineItem[];
  @IsEnum(Currency) currency!: Currency;
  @Type(() => Date) @IsDate() placedAt!: Date;
  @IsIn(['web', 'app', 'phone']) channel!: string;
  @IsOptional() @IsString() note?: string;
  @IsBoolean() express!: boolean;
}

export class Measurement {
  @IsNumber({ allowNaN: true }) value!: number;
  @IsNumber({ allowInfinity: true }) reading!: number;
  @IsNumber() @Min(0) @Max(1) ratio!: number;
  @IsInt() @IsNegative() offset!: number;
  @IsInt() @IsDivisibleBy(5) step!: number;
  @IsEnum(Priority) priority!: Priority;
}

export class StringFormats {
  @IsUrl() homepage!: string;
  @IsISO8601() at!: string;
  @IsDateString() day!: string;
  @IsAlpha() code!: string;
  @IsAlphanumeric() handle!: string;
  @Contains('warren') motto!: string;
  @IsUppercase() shout!: string;
  @IsHexColor() colour!: string;
  @IsUUID('all') reference!: string;
}

export class Flags {
  @Equals('v1') version!: string;
  @NotEquals('root') user!: string;
  @IsDefined() token!: unknown;
  @IsNotEmpty() label!: string;
  @IsOptional() @IsEmpty() reserved?: string;
  @IsObject() settings!: Record<string, unknown>;
}

export class Tagged {
  @IsArray() @ArrayNotEmpty() @ArrayUnique() @IsString({ each: true }) @Length(2, 10, { each: true }) tags!: string[];
  @IsInt({ each: true }) @Min(0, { each: true }) @Max(10, { each: true }) scores!: number[];
  @IsOptional() @IsIn(['a', 'b'], { each: true }) letters?: string[];
}

export class Schedule {
  @Type(() => Date) @IsDate() @MinDate(new Date('2020-01-01T00:00:00Z')) start!: Date;
  @IsOptional() @Type(() => Date) @IsDate() end?: Date;
  @IsArray() @ArrayMaxSize(5) @Type(() => Date) @IsDate({ each: true }) slots!: Date[];
}

export class Category {
  @IsString() @IsNotEmpty() name!: string;
  @IsOptional() @ValidateNested({ each: true }) @Type(() => Category) children?: Category[];
}

/** Has no validation metadata: validating it reports an unknown value. */
export class Opaque {
  label?: string;
}

export class Envelope {
  @IsOptional() @IsInt() @Min(1) version = 1;
  @IsString() kind!: string;
  @IsObject() meta!: Record<string, unknown>;
  @Allow() passthrough?: unknown;
  @ValidateNested() untyped!: object;
  @IsOptional() @ValidateNested() @Type(() => Opaque) opaque?: Opaque;
  /** Undecorated, with an initialiser: class-validator's whitelist removes it from every instance. */
  internal = 'not from the payload';
}

export class Base {
  @IsString() id!: string;
  @IsInt() @Min(0) revision!: number;
}

export class Derived extends Base {
  @IsInt() @Min(10) override revision = 10;
  @IsString() @MaxLength(5) extra!: string;
}

export class Cell {
  @IsInt() @Min(0) value!: number;
}

export class Grid {
  @ValidateNested({ each: true }) @Type(() => Cell) rows!: Cell[][];
  @IsString() title!: string;
}

export class Conversions {
  @Type(() => String) @IsString() code!: string;
  @Type(() => Number) @IsNumber() amount!: number;
  @Type(() => Boolean) @IsBoolean() flag!: boolean;
}

/** Nested instances built (by `@Type`) but not validated: they keep every key. */
export class Loose {
  @IsObject() @Type(() => Address) shipping!: Address;
  @IsOptional() @IsArray() @Type(() => Cell) cells?: Cell[];
  @IsString() id!: string;
}

/** Custom messages (templates and functions), repeated constraint keys and contexts. */
export class Messages {
  @Min(1, { message: '$property too small: $value < $constraint1 on $target' }) @Min(5, { context: { level: 'warn' } }) count!: number;
  @IsString({ message: (args) => `${args.property} of ${args.targetName} must be text, not ${typeof args.value}` }) text!: string;
  @IsIn(['x', 'y'], { message: 'pick one of $constraint1', each: true }) picks!: string[];
  @ValidateNested({ message: 'give $property an object' }) @Type(() => Cell) cell!: Cell;
}

/** Less common built-ins, each compiled by calling the decorator's own validator. */
export class Collections {
  @ArrayContains(['a']) @ArrayNotContains(['z']) list!: string[];
  @IsNotEmptyObject() attributes!: Record<string, unknown>;
  @Type(() => Date) @IsInstance(Date) @MaxDate(new Date('2030-01-01T00:00:00Z')) until!: Date;
  @IsOptional() @IsLatLong() position?: string;
  @IsOptional() @IsPort() port?: string;
  @IsOptional() @Type(() => Object) @IsObject() raw?: object;
}

@ValidatorConstraint({ name: 'skuFormat' })
export class SkuFormat implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return typeof value === 'string' && /^[A-Z]{3}-\d{3}$/.test(value);
  }

  defaultMessage(): string {
    return '$property must look like ABC-123';
  }
}

/** The deliberate fallback: a custom constraint only class-validator can run. */
export class CustomChecked {
  @Validate(SkuFormat) sku!: string;
  @IsInt() qty!: number;
}

/** One zoo entry: the class and valid payloads for it. */
export interface ZooEntry {
  type: new () => object;
  valid(random: Random): Record<string, unknown>;
  /**
   * The class has an undecorated field with an initialiser. class-validator's whitelist sees it on
   * every instance, so with `forbidNonWhitelisted` no payload can pass.
   */
  undecoratedInitialiser?: true;
}

const address = (r: Random) => ({
  street: r.string(r.around(1, 80)), city: r.string(r.int(1, 12)), postcode: r.string(5, '0123456789'),
  country: r.pick(['DE', 'FR', 'NL']), ...(r.chance(0.5) ? { line2: r.string(r.around(0, 40)) } : {}),
});
const customer = (r: Random) => ({
  id: r.uuid(4), email: `${r.string(r.int(1, 10))}@example.${r.pick(['com', 'org', 'de'])}`, name: r.string(r.around(2, 50)),
  address: address(r), ...(r.chance(0.5) ? { phone: r.string(8, '0123456789') } : {}), vip: r.chance(0.5),
});
const lineItem = (r: Random) => ({
  sku: `${r.string(3, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ')}-${r.string(3, '0123456789')}`, qty: r.around(1, 99),
  price: r.int(1, 100000) / 100, ...(r.chance(0.5) ? { discount: r.around(0, 100) } : {}),
  tags: Array.from({ length: r.int(0, 3) }, () => r.string(r.int(1, 6))),
});
const category = (r: Random, depth: number): Record<string, unknown> => ({
  name: r.string(r.int(1, 8)),
  ...(depth > 0 && r.chance(0.7) ? { children: Array.from({ length: r.int(0, 3) }, () => category(r, depth - 1)) } : {}),
});

export const ZOO: readonly ZooEntry[] = [
  { type: Address, valid: address },
  { type: Customer, valid: customer },
  { type: LineItem, valid: lineItem },
  {
    type: OrderPlaced,
    valid: (r) => ({
      orderId: r.uuid(4), customer: customer(r), items: Array.from({ length: r.around(1, 20) }, () => lineItem(r)),
      currency: r.pick(['EUR', 'USD', 'JPY']), placedAt: new Date(Date.UTC(2024, r.int(0, 11), r.int(1, 28))).toISOString(),
      channel: r.pick(['web', 'app', 'phone']), ...(r.chance(0.5) ? { note: r.string(r.int(0, 30)) } : {}), express: r.chance(0.5),
    }),
  },
  {
    type: Measurement,
    valid: (r) => ({
      value: r.chance(0.2) ? NaN : r.next() * 100, reading: r.chance(0.2) ? Infinity : r.next(), ratio: r.around(0, 1) * r.next(),
      offset: -r.around(1, 1000), step: 5 * r.int(-20, 20), priority: r.pick([1, 5]),
    }),
  },
  {
    type: StringFormats,
    valid: (r) => ({
      homepage: `https://${r.string(r.int(1, 10))}.example.com/${r.string(r.int(0, 8))}`, at: new Date(Date.UTC(2024, 0, r.int(1, 28))).toISOString(),
      day: `2024-0${r.int(1, 9)}-1${r.int(0, 9)}`, code: r.string(r.int(1, 6), 'abcXYZ'), handle: r.string(r.int(1, 8), 'ab12XY'),
      motto: `${r.string(r.int(0, 4))}warren${r.string(r.int(0, 4))}`, shout: r.string(r.int(1, 6), 'ABC '), colour: `#${r.string(r.pick([3, 6]), '0123456789abcdef')}`,
      reference: r.uuid(r.pick([1, 4] as const)),
    }),
  },
  {
    type: Flags,
    valid: (r) => ({
      version: 'v1', user: r.string(r.int(1, 6)), token: r.pick([0, 'x', false, {}, []]), label: r.string(r.int(1, 5)),
      ...(r.chance(0.5) ? { reserved: r.pick(['', null, undefined]) } : {}), settings: { depth: r.int(0, 3) },
    }),
  },
  {
    type: Tagged,
    valid: (r) => {
      const tags = new Set<string>();
      const count = r.int(1, 4);
      while (tags.size < count) tags.add(r.string(r.around(2, 10)));
      return {
        tags: [...tags], scores: Array.from({ length: r.int(0, 5) }, () => r.around(0, 10)),
        ...(r.chance(0.5) ? { letters: Array.from({ length: r.int(0, 3) }, () => r.pick(['a', 'b'])) } : {}),
      };
    },
  },
  {
    type: Schedule,
    valid: (r) => ({
      start: new Date(Date.UTC(r.int(2020, 2030), r.int(0, 11), r.int(1, 28))).toISOString(),
      ...(r.chance(0.5) ? { end: Date.UTC(2031, 0, 1) } : {}),
      slots: Array.from({ length: r.around(0, 5) }, () => new Date(Date.UTC(2024, 0, r.int(1, 28))).toISOString()),
    }),
  },
  { type: Category, valid: (r) => category(r, 3) },
  {
    type: Envelope,
    valid: (r) => ({
      ...(r.chance(0.5) ? { version: r.around(1, 5) } : {}), kind: r.string(r.int(1, 6)), meta: { trace: r.string(8), hops: [1, 2] },
      ...(r.chance(0.5) ? { passthrough: { anything: [r.next()] } } : {}), untyped: r.chance(0.5) ? [] : [[]],
      ...(r.chance(0.3) ? { opaque: r.pick([null, undefined]) } : {}),
    }),
    undecoratedInitialiser: true,
  },
  { type: Derived, valid: (r) => ({ id: r.string(r.int(1, 5)), revision: r.around(10, 100), extra: r.string(r.around(0, 5)) }) },
  {
    type: Grid,
    valid: (r) => ({
      rows: Array.from({ length: r.int(0, 3) }, () => Array.from({ length: r.int(0, 3) }, () => ({ value: r.around(0, 9) }))),
      title: r.string(r.int(0, 5)),
    }),
  },
  {
    type: Conversions,
    valid: (r) => ({ code: r.pick([r.string(3), 42, true]), amount: r.pick([r.int(0, 9), String(r.int(0, 9))]), flag: r.pick([0, 1, '', 'x', true]) }),
  },
  {
    type: Loose,
    valid: (r) => ({ shipping: { ...address(r), extra: r.string(3) }, ...(r.chance(0.5) ? { cells: [{ value: r.int(0, 3), more: true }] } : {}), id: r.string(4) }),
  },
  {
    type: Messages,
    valid: (r) => ({ count: r.around(5, 9), text: r.string(r.int(0, 4)), picks: Array.from({ length: r.int(0, 3) }, () => r.pick(['x', 'y'])), cell: { value: r.int(0, 3) } }),
  },
  {
    type: Collections,
    valid: (r) => ({
      list: ['a', ...Array.from({ length: r.int(0, 3) }, () => r.pick(['a', 'b', 'c']))], attributes: { colour: r.pick(['red', 'blue']) },
      until: new Date(Date.UTC(r.int(2000, 2029), 0, 1)).toISOString(), ...(r.chance(0.5) ? { position: `${r.int(-89, 89)}.5,${r.int(-179, 179)}.25` } : {}),
      ...(r.chance(0.5) ? { port: String(r.around(0, 65535)) } : {}), ...(r.chance(0.5) ? { raw: { nested: { deep: [r.int(0, 9)] } } } : {}),
    }),
  },
];
