import { TransformationType } from 'class-transformer';
import { getMetadataStorage, ValidationTypes } from 'class-validator';
import type { ValidationMetadata } from 'class-validator/types/metadata/ValidationMetadata';
import { COMPILED_CONSTRAINTS, CompiledConstraint } from './constraints';
import { transformerDecoratorsOf, transformerStorage, typeMetadataOf } from './library-internals';
import { NotCompilableError } from './signals';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Constructor = new (...args: any[]) => object;

/** What class-validator checks on one property, in the order it checks them. */
export interface PropertyRules {
  name: string;
  /** `@IsOptional()`: null and undefined skip every other check. */
  optional: boolean;
  /** `@IsDefined()` first, then the other constraints in declaration order, as class-validator runs them. */
  constraints: readonly CompiledConstraint[];
  /** `@ValidateNested()`, whose metadata also carries the message for non-object values. */
  nested: ValidationMetadata | undefined;
}

/** Everything class-validator would do with an instance of one class. */
export interface ValidationRules {
  /** class-validator's own grouping of the metadata by property, read the way its whitelist reads it. */
  grouped: Readonly<Record<string, ValidationMetadata[]>>;
  /** False when the class has no validation metadata: class-validator then reports an unknown value. */
  hasMetadata: boolean;
  /** The properties with something to check (`@Allow()` or `@IsOptional()` alone only whitelist). */
  properties: readonly PropertyRules[];
}

/** What `@Type(() => X)` turns a value into. */
export type TypeTarget =
  | { kind: 'string' | 'number' | 'boolean' | 'date' }
  | { kind: 'class'; type: Constructor };

/** What class-transformer needs to know to build an instance of one class. */
export interface TransformShape {
  type: Constructor;
  /** Properties with an `@Type`, own or inherited. */
  typed: ReadonlyMap<string, TypeTarget>;
  /** Own keys of a fresh `new type()`: initialisers, and with ES2022 class fields every declared field. */
  ownKeys: readonly string[];
  /** Own keys whose initial value is a function; class-transformer never assigns those. */
  functionValuedOwnKeys: ReadonlySet<string>;
}

/**
 * Reads class-validator's and class-transformer's metadata for a class once, and refuses (with a
 * `NotCompilableError` naming the decorator) whatever the compiled path would not reproduce exactly.
 */
export class MetadataReader {
  private readonly rules = new Map<Function, ValidationRules>();
  private readonly shapes = new Map<Function, TransformShape>();

  rulesOf(type: Function): ValidationRules {
    let rules = this.rules.get(type);
    if (!rules) this.rules.set(type, (rules = readValidationRules(type)));
    return rules;
  }

  shapeOf(type: Constructor): TransformShape {
    let shape = this.shapes.get(type);
    if (!shape) this.shapes.set(type, (shape = readTransformShape(type)));
    return shape;
  }
}

function readValidationRules(type: Function): ValidationRules {
  const storage = getMetadataStorage();
  // The same call, with the same arguments, that class-validator's executor makes without groups.
  const metadatas = storage.getTargetValidationMetadatas(type, undefined as unknown as string, false, false, undefined);
  const grouped = storage.groupByPropertyName(metadatas);
  const properties: PropertyRules[] = [];
  for (const name of Object.keys(grouped)) {
    const property = readPropertyRules(type, name, grouped[name]!);
    if (property.constraints.length > 0 || property.nested) properties.push(property);
  }
  return { grouped, hasMetadata: metadatas.length > 0, properties };
}

function readPropertyRules(type: Function, name: string, metadatas: readonly ValidationMetadata[]): PropertyRules {
  const defined: CompiledConstraint[] = [];
  const others: CompiledConstraint[] = [];
  let optional = false;
  let nested: ValidationMetadata | undefined;
  for (const metadata of metadatas) {
    const where = `${describeDecorator(metadata)} on ${type.name}.${name}`;
    if (metadata.validateIf) throw new NotCompilableError(`the validateIf option of ${where}`);
    switch (metadata.type) {
      case ValidationTypes.CONDITIONAL_VALIDATION:
        if (metadata.name !== 'isOptional') throw new NotCompilableError(where);
        optional = true;
        break;
      case ValidationTypes.IS_DEFINED:
        defined.push(compileConstraint(type, metadata, where));
        break;
      case ValidationTypes.CUSTOM_VALIDATION:
        others.push(compileConstraint(type, metadata, where));
        break;
      case ValidationTypes.NESTED_VALIDATION:
        if (nested) throw new NotCompilableError(`a second ${where}`);
        nested = metadata;
        break;
      case ValidationTypes.WHITELIST:
        break;
      default:
        throw new NotCompilableError(where);
    }
  }
  return { name, optional, constraints: [...defined, ...others], nested };
}

function compileConstraint(type: Function, metadata: ValidationMetadata, where: string): CompiledConstraint {
  const registered = getMetadataStorage().getTargetValidatorConstraints(metadata.constraintCls);
  // Zero or several implementations change what class-validator runs; leave those to it.
  if (registered.length !== 1) throw new NotCompilableError(`${where} (${registered.length} constraint implementations)`);
  const constraint = registered[0]!;
  const key = constraint.name ? constraint.name : metadata.type;
  if (constraint.async) throw new NotCompilableError(`the async constraint ${where}`);
  if (!COMPILED_CONSTRAINTS.has(key)) throw new NotCompilableError(`the custom constraint ${where}`);
  return new CompiledConstraint(metadata, constraint.instance, key, type.name);
}

function describeDecorator(metadata: ValidationMetadata): string {
  if (metadata.type === ValidationTypes.CONDITIONAL_VALIDATION && metadata.name !== 'isOptional') return '@ValidateIf';
  const registered = metadata.constraintCls ? getMetadataStorage().getTargetValidatorConstraints(metadata.constraintCls) : [];
  return `@${registered[0]?.name || metadata.name || metadata.type}`;
}

function readTransformShape(type: Constructor): TransformShape {
  const chain = [type, ...ancestorsOf(type)];
  const typedNames = new Set<string>();
  for (const cls of chain) {
    const decorators = transformerDecoratorsOf(cls);
    if (!decorators) throw new NotCompilableError(`class-transformer's metadata storage has an unknown shape (${type.name})`);
    if (decorators.exposesOrExcludes) throw new NotCompilableError(`@Expose/@Exclude on ${cls.name}`);
    for (const name of decorators.transformed) {
      if (transformerStorage.findTransformMetadatas(type, name, TransformationType.PLAIN_TO_CLASS).length > 0) {
        throw new NotCompilableError(`@Transform on ${type.name}.${name}`);
      }
    }
    for (const name of decorators.typed) typedNames.add(name);
  }
  if (typeof (type.prototype as { then?: unknown }).then === 'function') {
    throw new NotCompilableError(`${type.name} has a then() method, which class-transformer takes for a Promise`);
  }
  const typed = new Map<string, TypeTarget>();
  for (const name of typedNames) typed.set(name, readTypeTarget(type, name));
  let probe: object;
  try {
    probe = new type();
  } catch (error) {
    throw new NotCompilableError(`new ${type.name}() throws (${String(error)})`);
  }
  const ownKeys = Object.keys(probe);
  const functionValuedOwnKeys = new Set(ownKeys.filter((key) => (probe as Record<string, unknown>)[key] instanceof Function));
  return { type, typed, ownKeys, functionValuedOwnKeys };
}

/** class-transformer's own notion of ancestors: constructors up the prototype chain. */
function ancestorsOf(type: Function): Function[] {
  const ancestors: Function[] = [];
  for (let base = Object.getPrototypeOf(type) as Function; base && base.prototype !== undefined; base = Object.getPrototypeOf(base) as Function) {
    ancestors.push(base);
  }
  return ancestors;
}

function readTypeTarget(type: Constructor, name: string): TypeTarget {
  const metadata = typeMetadataOf(type, name)!;
  const where = `@Type on ${type.name}.${name}`;
  if (metadata.options?.discriminator) throw new NotCompilableError(`the discriminator of ${where}`);
  if (metadata.reflectedType === Map) throw new NotCompilableError(`${where} (a Map property)`);
  assertPlainArrayType(metadata.reflectedType, where);
  // A type function that takes arguments may choose the class per value; class-transformer asks it every time.
  if (metadata.typeFunction.length > 0) throw new NotCompilableError(`${where} (its type function reads the value)`);
  let target: unknown;
  try {
    target = metadata.typeFunction();
  } catch (error) {
    throw new NotCompilableError(`${where} (its type function throws: ${String(error)})`);
  }
  if (target === String) return { kind: 'string' };
  if (target === Number) return { kind: 'number' };
  if (target === Boolean) return { kind: 'boolean' };
  if (target === Date) return { kind: 'date' };
  if (!isPlainClass(target)) throw new NotCompilableError(`${where} (it names ${String((target as Function | undefined)?.name ?? target)})`);
  return { kind: 'class', type: target };
}

/**
 * class-transformer builds an array property with `new reflectedType()` when that gives a Set or
 * something with a `push`; only plain arrays are compiled.
 */
function assertPlainArrayType(reflectedType: unknown, where: string): void {
  if (reflectedType === undefined || reflectedType === Array) return;
  let collection: unknown;
  try {
    collection = new (reflectedType as new () => unknown)();
  } catch {
    throw new NotCompilableError(`${where} (its declared type cannot be constructed)`);
  }
  if (collection instanceof Set || (typeof collection === 'object' && collection !== null && 'push' in collection)) {
    throw new NotCompilableError(`${where} (its declared type is a collection other than Array)`);
  }
}

const BUILT_IN_CONSTRUCTORS: readonly Function[] = [
  Array, Map, Set, WeakMap, WeakSet, Promise, ArrayBuffer, Uint8Array, RegExp, Error, Symbol, BigInt, Function,
];

/** A user class (or `Object`): class-transformer builds it with `new` and copies keys into it. */
function isPlainClass(target: unknown): target is Constructor {
  if (typeof target !== 'function' || typeof target.prototype !== 'object' || target.prototype === null) return false;
  return !BUILT_IN_CONSTRUCTORS.some((builtIn) => target === builtIn || target.prototype instanceof builtIn);
}
