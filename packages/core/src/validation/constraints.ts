import type { ValidationArguments, ValidatorConstraintInterface } from 'class-validator';
import type { ValidationMetadata } from 'class-validator/types/metadata/ValidationMetadata';
import { replaceMessageSpecialTokens } from './library-internals';
import { NEEDS_REFERENCE } from './signals';

/**
 * class-validator's built-in constraints, by the name they report (`IsUUID()` reports `isUuid`). Each
 * is synchronous and depends only on the value and the decorator's arguments, so the compiled path can
 * call the decorator's own `validate` directly, with the arguments class-validator would pass, and get
 * class-validator's answer by construction. Every other constraint name (`@Validate`,
 * `registerDecorator`) sends its class to the reference path.
 */
export const COMPILED_CONSTRAINTS: ReadonlySet<string> = new Set([
  // common and type checks
  'isDefined', 'equals', 'notEquals', 'isEmpty', 'isNotEmpty', 'isIn', 'isNotIn',
  'isLatLong', 'isLatitude', 'isLongitude',
  'isArray', 'isBoolean', 'isDate', 'isEnum', 'isInt', 'isNumber', 'isObject', 'isString',
  // numbers and dates
  'isDivisibleBy', 'isNegative', 'isPositive', 'max', 'min', 'maxDate', 'minDate',
  // arrays and objects
  'arrayContains', 'arrayMaxSize', 'arrayMinSize', 'arrayNotContains', 'arrayNotEmpty', 'arrayUnique',
  'isInstance', 'isNotEmptyObject',
  // strings
  'contains', 'notContains', 'matches', 'maxLength', 'minLength', 'isLength', 'isByteLength',
  'isAlpha', 'isAlphanumeric', 'isAscii', 'isLowercase', 'isUppercase', 'isMultibyte', 'isFullWidth',
  'isHalfWidth', 'isVariableWidth', 'isSurrogatePair',
  'isUuid', 'isEmail', 'isUrl', 'isFqdn', 'isIp', 'isPort', 'isMacAddress', 'isDataURI', 'isMagnetURI',
  'isIso8601', 'isDateString', 'isRFC3339', 'isMilitaryTime', 'isTimeZone',
  'isNumberString', 'isBooleanString', 'isDecimal', 'isHexadecimal', 'isOctal', 'isHexColor', 'isRgbColor',
  'isHSL', 'isBase32', 'isBase58', 'isBase64', 'isJson', 'isJwt', 'isMongoId', 'IsFirebasePushId', 'isHash',
  'isSemVer', 'isMimeType', 'isLocale', 'isISO6391', 'isISO31661Alpha2', 'isISO31661Alpha3', 'isISO31661Numeric',
  'isISO4217CurrencyCode', 'isCurrency', 'isCreditCard', 'isIBAN', 'isBIC', 'isEAN', 'isIsbn', 'isIsin', 'isISRC',
  'isISSN', 'isIdentityCard', 'isPassportNumber', 'isPostalCode', 'isPhoneNumber', 'isMobilePhone', 'isTaxId',
  'isBtcAddress', 'isEthereumAddress', 'isStrongPassword',
]);

/**
 * One decorator on one property, ready for generated code to call: `validator.validate(value, args)` on
 * every message (with `args` filled in, as class-validator would pass them), `message` only on failure.
 */
export class CompiledConstraint {
  /** The key it reports under in `ValidationIssue.constraints`, e.g. `min`. */
  readonly key: string;
  /** `each: true`: an array value passes when every element does. */
  readonly each: boolean;
  /** The arguments class-validator passes; one object per decorator, filled in for each call rather than allocated per message. */
  readonly args: ValidationArguments;

  constructor(
    private readonly metadata: ValidationMetadata,
    readonly validator: ValidatorConstraintInterface,
    key: string,
    targetName: string,
  ) {
    this.key = key;
    this.each = metadata.each === true;
    this.args = { targetName, property: metadata.propertyName, object: undefined as unknown as object, value: undefined, constraints: metadata.constraints };
  }

  message(value: unknown, object: object): string {
    return constraintMessage(this.metadata, this.validator, object, value);
  }
}

/** A constraint's result as class-validator reads it (truthy passes); a Promise sends the payload to class-validator. */
export function accepted(result: unknown): boolean {
  if (result === true) return true;
  if (result === false) return false;
  if (typeof result === 'object' && result !== null && typeof (result as { then?: unknown }).then === 'function') throw NEEDS_REFERENCE;
  return Boolean(result);
}

/**
 * The message class-validator reports for a failed decorator (its `createValidationError`): the
 * decorator's `message` option, else the constraint's default message, with `$property`, `$value`,
 * `$constraint1`… and `$target` replaced by class-validator's own function.
 */
export function constraintMessage(metadata: ValidationMetadata, validator: ValidatorConstraintInterface | undefined, object: object, value: unknown): string {
  const owner = (object as { constructor?: { name: string } }).constructor;
  const args: ValidationArguments = {
    targetName: owner ? owner.name : (undefined as unknown as string),
    property: metadata.propertyName,
    object,
    value,
    constraints: metadata.constraints,
  };
  let message = metadata.message || '';
  if (!metadata.message && validator && validator.defaultMessage instanceof Function) message = validator.defaultMessage(args);
  return replaceMessageSpecialTokens(message, args);
}
