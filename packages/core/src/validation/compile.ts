import type { ValidationIssue } from '../errors';
import { MetadataReader, type Constructor } from './class-metadata';
import { TransformCompiler } from './compile-transform';
import { ValidateCompiler } from './compile-validate';
import type { WhitelistSettings } from './reference';
import { NEEDS_REFERENCE } from './signals';

/** A class's payload validation, compiled: transform and validate in one synchronous call. */
export interface CompiledValidation<T> {
  /**
   * Builds the instance from a plain object and appends any issues to `issues` (the instance is then
   * not to be used). Throws `NEEDS_REFERENCE` or `FORBIDDEN_KEY_FOUND` for payloads it hands back.
   */
  run(plain: object, issues: ValidationIssue[]): T;
}

/**
 * Compiles the validation of `type` and of every class reachable from it, reading their metadata once.
 * Throws `NotCompilableError` (naming the decorator) when any of them needs class-validator itself.
 */
export function compileValidation<T>(type: new (...args: any[]) => T, settings: WhitelistSettings): CompiledValidation<T> {
  const metadata = new MetadataReader();
  const root = type as unknown as Constructor;
  const transforms = new TransformCompiler(metadata, settings.whitelist && !settings.forbidNonWhitelisted);
  const validators = new ValidateCompiler(metadata, settings.whitelist && settings.forbidNonWhitelisted);
  const builder = transforms.builderFor(root, true);
  const validator = validators.validatorFor(root);
  const prototype = root.prototype as object;
  return {
    run(plain, issues) {
      const proto: unknown = Object.getPrototypeOf(plain);
      if (proto !== Object.prototype && proto !== null && proto !== prototype) throw NEEDS_REFERENCE;
      const instance = builder.build(plain);
      validator.run(instance, '', issues);
      return instance as T;
    },
  };
}
