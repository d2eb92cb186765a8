import { plainToInstance } from 'class-transformer';
import { Validator, type ValidationError, type ValidatorOptions } from 'class-validator';
import { PayloadValidationError, type ValidationIssue } from '../errors';
import { joinPath } from './forbidden-keys';
import { ValidationExecutor } from './library-internals';

/** The whitelist settings, resolved to their defaults. */
export interface WhitelistSettings {
  whitelist: boolean;
  forbidNonWhitelisted: boolean;
}

/** The class-validator options every Warren validation runs with; the compiled path reproduces them. */
export function validatorOptionsFor(settings: WhitelistSettings): ValidatorOptions {
  return {
    whitelist: settings.whitelist,
    forbidNonWhitelisted: settings.forbidNonWhitelisted,
    forbidUnknownValues: true,
    // Errors need only paths and constraints; not keeping targets and values spares memory.
    validationError: { target: false, value: false },
  };
}

/**
 * `plainToInstance` then class-validator's `validate`, the reference behaviour: used for classes the
 * compiler does not understand, and for the rare payload the compiled code hands back. Returns the
 * instance synchronously unless a constraint actually returned a Promise.
 */
export function validateWithClassValidator<T>(type: new (...args: any[]) => T, plain: object, settings: WhitelistSettings): T | Promise<T> {
  const instance = plainToInstance(type, plain) as T & object;
  const executor = new ValidationExecutor(new Validator(), validatorOptionsFor(settings));
  const errors: ValidationError[] = [];
  // No schema name: the executor reads the metadata of the instance's constructor.
  executor.execute(instance, undefined as unknown as string, errors);
  const settle = (): T => {
    const remaining = executor.stripEmptyErrors(errors);
    if (remaining.length > 0) throw new PayloadValidationError(type.name, flattenValidationErrors(remaining));
    return instance;
  };
  return executor.awaitingPromises.length > 0 ? Promise.all(executor.awaitingPromises).then(settle) : settle();
}

/**
 * Flattens class-validator's error tree into issues with dotted paths (`items.2.qty`), parents before
 * their children. An error without a property (an unknown value) takes its parent's path.
 */
export function flattenValidationErrors(errors: readonly ValidationError[], parentPath = '', issues: ValidationIssue[] = []): ValidationIssue[] {
  for (const error of errors) {
    const path = error.property === undefined ? parentPath : joinPath(parentPath, error.property);
    if (error.constraints && Object.keys(error.constraints).length > 0) issues.push({ path, constraints: { ...error.constraints } });
    if (error.children && error.children.length > 0) flattenValidationErrors(error.children, path, issues);
  }
  return issues;
}
