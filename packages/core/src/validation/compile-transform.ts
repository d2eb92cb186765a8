import type { Constructor, MetadataReader, TransformShape, TypeTarget } from './class-metadata';
import { compileFunction, literal } from './codegen';
import { containsForbiddenKey, FORBIDDEN_KEYS, MAX_PAYLOAD_DEPTH } from './forbidden-keys';
import { FORBIDDEN_KEY_FOUND, NEEDS_REFERENCE, NotCompilableError } from './signals';

/*
 * The compiled counterpart of class-transformer's `plainToInstance` (0.5.1, default options), for JSON
 * values: plain objects, arrays, strings, numbers, booleans, null (and Dates). Anything else in a
 * payload throws `NEEDS_REFERENCE` so the message goes through class-transformer itself; a forbidden
 * key throws `FORBIDDEN_KEY_FOUND` before it is copied.
 *
 * Whitelisting belongs to class-validator, which deletes undecorated keys from each instance it
 * validates; with `strip` the builders of validated classes simply never copy them (and delete the
 * undecorated keys the constructor itself creates), which ends in the same instance without the work.
 */

/** Turns one property's source value into what class-transformer would assign. */
export type ValueTransform = (value: unknown) => unknown;

/** Builds an instance of one class from a source object; a slot, so that recursive classes can refer to themselves. */
export interface InstanceBuilder {
  build: (source: object) => object;
}

type Writable = Record<string, unknown>;

export class TransformCompiler {
  private readonly validatedBuilders = new Map<Function, InstanceBuilder>();
  private readonly copyingBuilders = new Map<Function, InstanceBuilder>();

  /**
   * @param strip whitelist on and `forbidNonWhitelisted` off: validated instances may skip undecorated keys.
   */
  constructor(private readonly metadata: MetadataReader, private readonly strip: boolean) {}

  /**
   * The builder for instances of `type`; `validated` says whether class-validator will validate (and so
   * whitelist) them, which is true at the top and below every `@ValidateNested`.
   */
  builderFor(type: Constructor, validated: boolean): InstanceBuilder {
    const stripping = this.strip && validated;
    const builders = stripping ? this.validatedBuilders : this.copyingBuilders;
    let builder = builders.get(type);
    if (builder) return builder;
    builder = { build: () => { throw new Error(`the builder of ${type.name} is not compiled yet`); } };
    builders.set(type, builder);
    builder.build = stripping ? this.strippingBuilder(type) : this.copyingBuilder(type);
    return builder;
  }

  private strippingBuilder(type: Constructor): (source: object) => object {
    const shape = this.metadata.shapeOf(type);
    const rules = this.metadata.rulesOf(type);
    const scope: Record<string, unknown> = { Type: type, dropUnknownKey };
    const cases: string[] = [];
    for (const name of Object.keys(rules.grouped)) {
      // A forbidden name never gets a case of its own, so the default branch refuses it.
      if (FORBIDDEN_KEYS.has(name)) continue;
      assertAssignable(shape, name);
      const validatedBelow = rules.properties.some((property) => property.name === name && property.nested !== undefined);
      const transform = `transform${cases.length}`;
      scope[transform] = this.propertyTransform(shape, name, validatedBelow);
      cases.push(`case ${literal(name)}: instance[${literal(name)}] = ${transform}(source[${literal(name)}]); break;`);
    }
    // class-validator's whitelist test, applied to the keys the constructor creates.
    const undecoratedOwnKeys = shape.ownKeys.filter((key) => !rules.grouped[key] || rules.grouped[key]!.length === 0);
    return compileFunction(scope, `
      return function build(source) {
        const instance = new Type();
        ${undecoratedOwnKeys.map((key) => `delete instance[${literal(key)}];`).join('\n')}
        const keys = Object.keys(source);
        for (let i = 0; i < keys.length; i++) {
          switch (keys[i]) {
            ${cases.join('\n')}
            default: dropUnknownKey(source, keys[i]);
          }
        }
        return instance;
      };`);
  }

  private copyingBuilder(type: Constructor): (source: object) => object {
    const shape = this.metadata.shapeOf(type);
    const scope: Record<string, unknown> = { Type: type, copyKey: keyCopier(shape) };
    const cases: string[] = [];
    for (const name of shape.typed.keys()) {
      if (FORBIDDEN_KEYS.has(name)) continue;
      assertAssignable(shape, name);
      const transform = `transform${cases.length}`;
      scope[transform] = this.propertyTransform(shape, name, false);
      cases.push(`case ${literal(name)}: instance[${literal(name)}] = ${transform}(source[${literal(name)}]); break;`);
    }
    return compileFunction(scope, `
      return function build(source) {
        const instance = new Type();
        const keys = Object.keys(source);
        for (let i = 0; i < keys.length; i++) {
          switch (keys[i]) {
            ${cases.join('\n')}
            default: copyKey(instance, source, keys[i]);
          }
        }
        return instance;
      };`);
  }

  private propertyTransform(shape: TransformShape, name: string, validatedBelow: boolean): ValueTransform {
    const target = shape.typed.get(name);
    if (!target) return copyUntyped;
    const single = this.typedTransform(target, validatedBelow);
    // Arrays map element by element with the same target, at any depth.
    const transform: ValueTransform = (value) => {
      if (!Array.isArray(value)) return single(value);
      const mapped: unknown[] = [];
      // class-transformer maps with forEach, which skips holes.
      for (let i = 0; i < value.length; i++) if (i in value) mapped.push(Array.isArray(value[i]) ? transform(value[i]) : single(value[i]));
      return mapped;
    };
    return transform;
  }

  private typedTransform(target: TypeTarget, validated: boolean): ValueTransform {
    switch (target.kind) {
      case 'string':
        return (value) => (isAbsent(value) ? value : String(consumable(value)));
      case 'number':
        return (value) => (isAbsent(value) ? value : Number(consumable(value)));
      case 'boolean':
        return (value) => (isAbsent(value) ? value : Boolean(consumable(value)));
      case 'date':
        return (value) => {
          if (value instanceof Date) return new Date(value.valueOf());
          return isAbsent(value) ? value : new Date(consumable(value) as string);
        };
      case 'class': {
        const type = target.type;
        const prototype = type.prototype as object;
        const builder = this.builderFor(type, validated);
        return (value) => {
          if (typeof value !== 'object' || value === null) return jsonPrimitive(value);
          if (value instanceof Date) return new Date(value.valueOf());
          const proto: unknown = Object.getPrototypeOf(value);
          // An instance of the class itself (a publisher's message) is read like a plain object.
          if (proto !== Object.prototype && proto !== null && proto !== prototype) throw NEEDS_REFERENCE;
          return builder.build(value);
        };
      }
    }
  }
}

/** A value without `@Type`: primitives as they are, arrays and plain objects copied deeply, Dates cloned. */
export function copyUntyped(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return jsonPrimitive(value);
  if (Array.isArray(value)) return mapArray(value, copyUntyped);
  if (value instanceof Date) return new Date(value.valueOf());
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) throw NEEDS_REFERENCE;
  const copy: Writable = {};
  const keys = Object.keys(value);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (FORBIDDEN_KEYS.has(key)) throw FORBIDDEN_KEY_FOUND;
    // class-transformer skips keys that are Object.prototype members; rare enough to leave to it.
    if (key in Object.prototype) throw NEEDS_REFERENCE;
    copy[key] = copyUntyped((value as Writable)[key]);
  }
  return copy;
}

function mapArray(values: readonly unknown[], transform: ValueTransform): unknown[] {
  const mapped: unknown[] = [];
  // class-transformer maps with forEach, which skips holes.
  for (let i = 0; i < values.length; i++) if (i in values) mapped.push(transform(values[i]));
  return mapped;
}

function jsonPrimitive(value: unknown): unknown {
  const type = typeof value;
  if (type === 'function' || type === 'symbol' || type === 'bigint') throw NEEDS_REFERENCE;
  return value;
}

function isAbsent(value: unknown): value is null | undefined {
  return value === null || value === undefined;
}

/**
 * A value about to be converted as a whole (String(), Number(), new Date()): still refused with a
 * forbidden key. Sets and Maps take other branches in class-transformer, so only JSON objects and
 * Dates stay here.
 */
function consumable(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return jsonPrimitive(value);
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null && !(value instanceof Date)) throw NEEDS_REFERENCE;
  if (containsForbiddenKey(value)) throw FORBIDDEN_KEY_FOUND;
  return value;
}

/** A value that is dropped, not copied: it must still be free of forbidden keys and be JSON (or a Date). */
function inspectStripped(value: unknown, depth = 0): void {
  if (typeof value !== 'object' || value === null) {
    jsonPrimitive(value);
    return;
  }
  // Too deep to walk safely: refused as a whole, like a forbidden key (forbiddenKeyIssues reports it).
  if (depth > MAX_PAYLOAD_DEPTH) throw FORBIDDEN_KEY_FOUND;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) inspectStripped(value[i], depth + 1);
    return;
  }
  if (value instanceof Date) return;
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) throw NEEDS_REFERENCE;
  const keys = Object.keys(value);
  for (let i = 0; i < keys.length; i++) {
    if (FORBIDDEN_KEYS.has(keys[i]!)) throw FORBIDDEN_KEY_FOUND;
    inspectStripped((value as Writable)[keys[i]!], depth + 1);
  }
}

/** A key the class does not declare, in a validated instance: whitelisting drops it, after a look inside. */
function dropUnknownKey(source: object, key: string): void {
  if (FORBIDDEN_KEYS.has(key)) throw FORBIDDEN_KEY_FOUND;
  inspectStripped((source as Writable)[key]);
}

/** Copies a key without `@Type` the way class-transformer does, or hands the payload back where it would not simply assign. */
function keyCopier(shape: TransformShape): (instance: Writable, source: object, key: string) => void {
  const prototype = shape.type.prototype as object;
  return (instance, source, key) => {
    const value = (source as Writable)[key];
    if (FORBIDDEN_KEYS.has(key)) throw FORBIDDEN_KEY_FOUND;
    // A method, accessor or Object.prototype member: class-transformer skips some and throws on others.
    if (key in prototype) throw NEEDS_REFERENCE;
    if (shape.functionValuedOwnKeys.has(key)) inspectStripped(value);
    else instance[key] = copyUntyped(value);
  };
}

/** A decorated property class-transformer would not simply assign stays with class-transformer. */
function assertAssignable(shape: TransformShape, name: string): void {
  if (name in (shape.type.prototype as object)) {
    throw new NotCompilableError(`${shape.type.name}.${name} shadows a method or accessor of its prototype`);
  }
  if (shape.functionValuedOwnKeys.has(name)) {
    throw new NotCompilableError(`${shape.type.name}.${name} is initialised with a function`);
  }
}
