/**
 * Thrown while compiling: the class uses something the compiled path does not reproduce exactly, so
 * its payloads go to class-validator. The message names the class, the property and the decorator.
 */
export class NotCompilableError extends Error {
  override readonly name = 'NotCompilableError';
}

/**
 * Thrown (never returned) by compiled code to leave a run at once, without a result object per
 * message: this payload holds something only class-transformer and class-validator handle exactly
 * (a non-JSON value such as a Map or a class instance, a key shadowing a method, a constraint that
 * returned a Promise), so the caller runs the reference path on it instead.
 */
export const NEEDS_REFERENCE: unique symbol = Symbol('warren.validation.needs-reference');

/** Thrown by compiled code on meeting a forbidden key; the caller then lists all of them. */
export const FORBIDDEN_KEY_FOUND: unique symbol = Symbol('warren.validation.forbidden-key');
