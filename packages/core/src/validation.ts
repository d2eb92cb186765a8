import { PayloadValidationError, type ValidationIssue } from './errors';
import { compileValidation, type CompiledValidation } from './validation/compile';
import { forbiddenKeyIssues } from './validation/forbidden-keys';
import { validateWithClassValidator, type WhitelistSettings } from './validation/reference';
import { FORBIDDEN_KEY_FOUND, NEEDS_REFERENCE, NotCompilableError } from './validation/signals';

/** How payloads are checked against their class. */
export interface ValidationSettings {
  /** Strip properties without decorators (default true). */
  whitelist?: boolean;
  /** Reject properties without decorators instead of stripping them (default false; needs `whitelist`). */
  forbidNonWhitelisted?: boolean;
  /** Use the compiled fast path where the class's decorators allow (default true). */
  compile?: boolean;
}

/** Turns decoded payloads into validated instances of one class. */
export interface PayloadValidator<T> {
  /** The class validated. */
  readonly type: new (...args: any[]) => T;
  /** True when the compiled fast path is used for this class (and all nested classes). */
  readonly compiled: boolean;
  /** Why the class is validated by class-validator itself, when `compiled` is false, e.g. `the custom constraint @isSku on LineItem.sku`. */
  readonly fallbackReason?: string;
  /**
   * Transforms a plain decoded value (from JSON.parse) into a validated instance of the class, or throws
   * `PayloadValidationError`. Returns synchronously unless one of the class's constraints is async.
   *
   * An error a constraint itself throws propagates unchanged, as with class-validator; some built-ins
   * do so on hostile input (`@IsEmail()` on a string with a lone surrogate throws `URIError`,
   * `@IsNumber({ maxDecimalPlaces })` on `1e-7` a `TypeError`), so callers treat any error from here as
   * a property of the payload.
   */
  validate(plain: unknown): T | Promise<T>;
}

/**
 * Creates the validator of one payload class: class-transformer's `plainToInstance`, then
 * class-validator's `validate` with `whitelist`, `forbidNonWhitelisted` and `forbidUnknownValues`, never
 * implicit conversion. Payloads with `__proto__`, `constructor` or `prototype` keys, at any depth, are
 * refused before anything copies them.
 *
 * The decorators stay the one source of truth, but are read once here: for classes that use only
 * class-validator's built-in constraints, `@IsOptional`, `@ValidateNested` and `@Type`, the work is
 * compiled into one specialised function (the same results, an order of magnitude faster); any other
 * class is validated by class-validator itself (`compiled` is false and `fallbackReason` says why).
 *
 * @example
 * ```ts
 * class LineItem { @IsString() sku!: string; @IsInt() @Min(1) qty!: number; }
 * const items = createPayloadValidator(LineItem);
 * items.validate({ sku: 'A-1', qty: 2 });   // a LineItem
 * items.validate({ sku: 'A-1', qty: 0 });   // throws PayloadValidationError:
 * //   issues: [{ path: 'qty', constraints: { min: 'qty must not be less than 1' } }]
 * ```
 */
export function createPayloadValidator<T>(type: new (...args: any[]) => T, settings: ValidationSettings = {}): PayloadValidator<T> {
  const whitelist: WhitelistSettings = {
    whitelist: settings.whitelist ?? true,
    forbidNonWhitelisted: settings.forbidNonWhitelisted ?? false,
  };
  if (settings.compile === false) return new ClassPayloadValidator(type, whitelist, undefined, 'compilation is turned off (compile: false)');
  try {
    return new ClassPayloadValidator(type, whitelist, compileValidation(type, whitelist), undefined);
  } catch (error) {
    if (!(error instanceof NotCompilableError)) throw error;
    return new ClassPayloadValidator(type, whitelist, undefined, error.message);
  }
}

class ClassPayloadValidator<T> implements PayloadValidator<T> {
  readonly compiled: boolean;

  constructor(
    readonly type: new (...args: any[]) => T,
    private readonly whitelist: WhitelistSettings,
    private readonly compiledValidation: CompiledValidation<T> | undefined,
    readonly fallbackReason: string | undefined,
  ) {
    this.compiled = compiledValidation !== undefined;
  }

  validate(plain: unknown): T | Promise<T> {
    if (typeof plain !== 'object' || plain === null || Array.isArray(plain)) throw this.notAnObject(plain);
    if (this.compiledValidation === undefined) return this.validateWithClassValidator(plain);
    const issues: ValidationIssue[] = [];
    let instance: T;
    try {
      instance = this.compiledValidation.run(plain, issues);
    } catch (signal) {
      if (signal === NEEDS_REFERENCE) return this.validateWithClassValidator(plain);
      if (signal === FORBIDDEN_KEY_FOUND) throw new PayloadValidationError(this.type.name, forbiddenKeyIssues(plain));
      // A payload nested deep enough to exhaust the stack (a recursive DTO, say): refused, not a crash.
      if (signal instanceof RangeError) throw new PayloadValidationError(this.type.name, tooDeepIssues(plain));
      throw signal;
    }
    if (issues.length > 0) throw new PayloadValidationError(this.type.name, issues);
    return instance;
  }

  private validateWithClassValidator(plain: object): T | Promise<T> {
    const forbidden = forbiddenKeyIssues(plain);
    if (forbidden.length > 0) throw new PayloadValidationError(this.type.name, forbidden);
    return validateWithClassValidator(this.type, plain, this.whitelist);
  }

  private notAnObject(plain: unknown): PayloadValidationError {
    const got = plain === null ? 'null' : Array.isArray(plain) ? 'an array' : `a ${typeof plain}`;
    const message = `the payload must be a JSON object for ${this.type.name}, got ${plain === undefined ? 'nothing' : got}`;
    return new PayloadValidationError(this.type.name, [{ path: '', constraints: { isObject: message } }]);
  }
}

function tooDeepIssues(plain: object): ValidationIssue[] {
  const issues = forbiddenKeyIssues(plain);
  return issues.length > 0 ? issues : [{ path: '', constraints: { maxDepth: 'the payload nests too deeply to be transformed' } }];
}
