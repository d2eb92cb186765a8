import { ValidationTypes } from 'class-validator';
import type { ValidationMetadata } from 'class-validator/types/metadata/ValidationMetadata';
import type { ValidationIssue } from '../errors';
import type { Constructor, MetadataReader, PropertyRules } from './class-metadata';
import { compileFunction, literal } from './codegen';
import { accepted, constraintMessage, type CompiledConstraint } from './constraints';
import { joinPath } from './forbidden-keys';
import { NEEDS_REFERENCE } from './signals';

/*
 * The compiled counterpart of class-validator's `ValidationExecutor` (0.15.1) with `forbidUnknownValues`
 * and no groups: it walks an instance the compiled transform built and appends flat issues in the
 * order class-validator's error tree flattens to (whitelist errors, then properties in metadata order,
 * each property before the properties nested in it).
 */

/** Validates one instance found at `path`, appending what fails to `issues`. */
export type InstanceValidator = (instance: object, path: string, issues: ValidationIssue[]) => void;

/** A compiled validator for one class; a slot, so that recursive classes can refer to themselves. */
export interface ValidatorSlot {
  run: InstanceValidator;
}

const UNKNOWN_VALUE_MESSAGE = 'an unknown value was passed to the validate function';

export class ValidateCompiler {
  private readonly slots = new Map<Function, ValidatorSlot>();

  /**
   * @param forbidNonWhitelisted whitelist and `forbidNonWhitelisted` both on: undecorated keys are issues.
   */
  constructor(
    private readonly metadata: MetadataReader,
    private readonly forbidNonWhitelisted: boolean,
  ) {}

  validatorFor(type: Constructor): ValidatorSlot {
    let slot = this.slots.get(type);
    if (slot) return slot;
    slot = { run: () => { throw new Error(`the validator of ${type.name} is not compiled yet`); } };
    this.slots.set(type, slot);
    slot.run = this.classValidator(type);
    return slot;
  }

  private classValidator(type: Constructor): InstanceValidator {
    const rules = this.metadata.rulesOf(type);
    if (!rules.hasMetadata) {
      return (_instance, path, issues) => {
        issues.push({ path, constraints: { unknownValue: UNKNOWN_VALUE_MESSAGE } });
      };
    }
    const scope: Record<string, unknown> = { joinPath, accepted, reportNonWhitelisted: nonWhitelistedReporter(rules.grouped) };
    const properties = rules.properties.map((property, index) => this.propertySource(type, property, `p${index}`, scope));
    return compileFunction(scope, `
      return function validate(instance, path, issues) {
        ${this.forbidNonWhitelisted ? 'reportNonWhitelisted(instance, path, issues);' : ''}
        let value, failed, passed;
        ${properties.join('\n')}
      };`);
  }

  /** Source that checks one property of `instance`; `id` prefixes the scope entries it adds. */
  private propertySource(type: Constructor, property: PropertyRules, id: string, scope: Record<string, unknown>): string {
    const name = literal(property.name);
    const report = `issues.push({ path: joinPath(path, ${name}), constraints: failed });`;
    const checks = property.constraints.map((constraint, index) => {
      const entry = `${id}c${index}`;
      scope[entry] = constraint;
      scope[`${entry}validator`] = constraint.validator;
      scope[`${entry}args`] = constraint.args;
      return checkSource(entry, constraint);
    });
    let after = `if (failed !== undefined) ${report}`;
    if (property.nested) {
      const nested = `${id}nested`;
      scope[nested] = this.nestedValidator(type, property.name, property.nested);
      after = `
        if (value === undefined) {
          if (failed !== undefined) ${report}
        } else if (Array.isArray(value) || value instanceof Object) {
          if (failed !== undefined) ${report}
          ${nested}.validate(value, joinPath(path, ${name}), issues);
        } else {
          if (failed === undefined) failed = {};
          failed[${literal(ValidationTypes.NESTED_VALIDATION)}] = ${nested}.message(value);
          ${report}
        }`;
    }
    const body = `
        failed = undefined;
        ${checks.join('\n')}
        ${after}`;
    // @IsOptional: null and undefined skip every check of the property.
    return `
      value = instance[${name}];
      ${property.optional ? `if (value !== null && value !== undefined) {${body}}` : `{${body}}`}`;
  }

  /**
   * `@ValidateNested`: arrays element by element (at any depth), objects by the validator of their
   * constructor, which the compiled transform makes one of: the `@Type` class, Object or Date.
   */
  private nestedValidator(type: Constructor, name: string, metadata: ValidationMetadata) {
    const target = this.metadata.shapeOf(type).typed.get(name);
    const byConstructor = new Map<Function, ValidatorSlot>();
    const expectedType = target?.kind === 'class' ? target.type : Object;
    const expected = this.validatorFor(expectedType);
    byConstructor.set(expectedType, expected);
    byConstructor.set(Object, this.validatorFor(Object));
    byConstructor.set(Date, this.validatorFor(Date));
    const message = (value: unknown): string => constraintMessage(metadata, undefined, metadata.target as object, value);
    const validateObject = (value: object, path: string, issues: ValidationIssue[]): void => {
      if (value.constructor === expectedType) return expected.run(value, path, issues);
      const slot = byConstructor.get(value.constructor);
      if (slot === undefined) throw NEEDS_REFERENCE;
      slot.run(value, path, issues);
    };
    const validate = (value: object, path: string, issues: ValidationIssue[]): void => {
      if (!Array.isArray(value)) {
        validateObject(value, path, issues);
        return;
      }
      const prefix = path === '' ? '' : `${path}.`;
      for (let i = 0; i < value.length; i++) {
        const element: unknown = value[i];
        if (element === undefined) continue;
        const elementPath = prefix + i;
        if (Array.isArray(element)) validate(element, elementPath, issues);
        else if (element instanceof Object) validateObject(element, elementPath, issues);
        else issues.push({ path: elementPath, constraints: { [ValidationTypes.NESTED_VALIDATION]: message(element) } });
      }
    };
    return { message, validate };
  }
}

/**
 * One decorator's check, with the validator called directly so each call site sees one receiver. The
 * shared arguments object is filled for the call and emptied after, so it keeps no payload alive.
 */
function checkSource(entry: string, constraint: CompiledConstraint): string {
  const call = (value: string) => `${entry}validator.validate(${value}, ${entry}args)`;
  const verdict = constraint.each
    ? `if (Array.isArray(value)) {
         // class-validator asks about every element before combining, so a failure does not stop the loop.
         passed = true;
         for (let i = 0; i < value.length; i++) if (!accepted(${call('value[i]')})) passed = false;
       } else passed = accepted(${call('value')});`
    : `passed = accepted(${call('value')});`;
  return `
    ${entry}args.object = instance; ${entry}args.value = value;
    ${verdict}
    ${entry}args.object = undefined; ${entry}args.value = undefined;
    if (!passed) {
      if (failed === undefined) failed = {};
      failed[${literal(constraint.key)}] = ${entry}.message(value, instance);
    }`;
}

/** class-validator's `forbidNonWhitelisted`: every own key without metadata is an issue. */
function nonWhitelistedReporter(grouped: Readonly<Record<string, readonly unknown[]>>): InstanceValidator {
  return (instance, path, issues) => {
    for (const key of Object.keys(instance)) {
      const metadatas = grouped[key];
      if (!metadatas || metadatas.length === 0) {
        issues.push({ path: joinPath(path, key), constraints: { [ValidationTypes.WHITELIST]: `property ${key} should not exist` } });
      }
    }
  };
}
