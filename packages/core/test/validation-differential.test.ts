import 'reflect-metadata';
import { expect } from 'chai';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import type { ValidationIssue } from '../src/errors';
import { createPayloadValidator, type ValidationSettings } from '../src/validation';
import { compileValidation, type CompiledValidation } from '../src/validation/compile';
import { FORBIDDEN_KEYS } from '../src/validation/forbidden-keys';
import { flattenValidationErrors } from '../src/validation/reference';
import { FORBIDDEN_KEY_FOUND, NEEDS_REFERENCE } from '../src/validation/signals';
import { CustomChecked, ZOO, type ZooEntry } from './validation/dto-zoo';
import { forbiddenPaths, mutate, Random } from './validation/payloads';

/**
 * The proof that the compiled path is class-transformer + class-validator: thousands of generated
 * payloads per zoo class go through both, and every decision, failing path, constraint and message,
 * and every accepted instance (class by class, key by key), must be the same.
 */

type Outcome =
  | { accepted: object }
  | { issues: ValidationIssue[] }
  | { threw: string };

const SETTINGS: ReadonlyArray<{ name: string; settings: Required<Omit<ValidationSettings, 'compile'>>; payloads: number }> = [
  { name: 'whitelist (default)', settings: { whitelist: true, forbidNonWhitelisted: false }, payloads: 2500 },
  { name: 'forbidNonWhitelisted', settings: { whitelist: true, forbidNonWhitelisted: true }, payloads: 800 },
  { name: 'no whitelist', settings: { whitelist: false, forbidNonWhitelisted: false }, payloads: 800 },
];

describe('Compiled validation agrees with class-transformer + class-validator', function () {
  this.timeout(120_000);

  for (const { name, settings, payloads } of SETTINGS) {
    describe(`with ${name}`, () => {
      for (const entry of ZOO) {
        it(`gives ${entry.type.name} the same outcome for ${payloads} generated payloads`, async () => {
          const counts = await compareOn(entry, settings, payloads);
          if (process.env.WARREN_DIFFERENTIAL_COUNTS) console.log(`      ${JSON.stringify(counts)}`);
          // The generator must exercise both sides of the decision, or the comparison proves little.
          if (settings.forbidNonWhitelisted && entry.undecoratedInitialiser) expect(counts.accepted, 'accepted payloads').to.equal(0);
          else expect(counts.accepted, 'accepted payloads').to.be.greaterThan(payloads / 20);
          expect(counts.rejected, 'rejected payloads').to.be.greaterThan(payloads / 10);
        });
      }
    });
  }

  it('compiles every zoo class under every setting', () => {
    for (const { settings } of SETTINGS) {
      for (const entry of ZOO) expect(createPayloadValidator(entry.type, settings).compiled, entry.type.name).to.equal(true);
    }
  });

  it('leaves the class with a custom constraint to class-validator, with the same outcomes', async () => {
    const validator = createPayloadValidator(CustomChecked);
    expect(validator.compiled).to.equal(false);
    const random = new Random(7);
    for (let i = 0; i < 300; i++) {
      const payload = mutate({ sku: 'ABC-123', qty: random.int(-5, 5) }, random, random.int(0, 2));
      const expected = await expectedOutcome(CustomChecked, payload, { whitelist: true, forbidNonWhitelisted: false });
      const actual = await settle(() => validator.validate(structuredClone(payload)));
      expectSameOutcome(actual, expected, payload);
    }
  });
});

async function compareOn(entry: ZooEntry, settings: { whitelist: boolean; forbidNonWhitelisted: boolean }, payloads: number) {
  const compiled = compileValidation(entry.type, settings);
  const validator = createPayloadValidator(entry.type, settings);
  const random = new Random(hash(`${entry.type.name}/${settings.whitelist}/${settings.forbidNonWhitelisted}`));
  const counts = { accepted: 0, rejected: 0, threw: 0, forbidden: 0, handedBack: 0 };
  for (let i = 0; i < payloads; i++) {
    const payload = mutate(entry.valid(random), random, random.pick([0, 0, 1, 1, 1, 2, 3]));
    let actual = compiledOutcome(compiled, payload);
    if (forbiddenPaths(payload).length > 0) {
      counts.forbidden++;
      // A key handed back to class-transformer may be met before the forbidden one; the validator refuses the payload either way.
      if (actual !== NEEDS_REFERENCE || !hasObjectPrototypeKey(payload)) expect(actual, describePayload(payload)).to.equal(FORBIDDEN_KEY_FOUND);
      expectSameOutcome(await settle(() => validator.validate(structuredClone(payload))), await expectedOutcome(entry.type, payload, settings), payload);
      continue;
    }
    if (actual === NEEDS_REFERENCE) {
      // Handing back is allowed only for keys class-transformer treats specially; the validator then uses the reference path.
      expect(hasObjectPrototypeKey(payload), `compiled code handed back ${describePayload(payload)}`).to.equal(true);
      counts.handedBack++;
      actual = await settle(() => validator.validate(structuredClone(payload)));
    }
    const expected = await expectedOutcome(entry.type, payload, settings);
    expectSameOutcome(actual, expected, payload);
    if ('accepted' in expected) counts.accepted++;
    else if ('issues' in expected) counts.rejected++;
    else counts.threw++;
  }
  return counts;
}

/** The compiled code alone, without the validator's hand-back to class-validator. */
function compiledOutcome(compiled: CompiledValidation<object>, payload: object): Outcome | typeof FORBIDDEN_KEY_FOUND | typeof NEEDS_REFERENCE {
  const issues: ValidationIssue[] = [];
  try {
    const instance = compiled.run(structuredClone(payload), issues);
    return issues.length > 0 ? { issues } : { accepted: instance };
  } catch (error) {
    if (error === FORBIDDEN_KEY_FOUND || error === NEEDS_REFERENCE) return error;
    return { threw: String(error) };
  }
}

/** class-transformer + class-validator, behind Warren's one addition: forbidden keys are refused first. */
async function expectedOutcome(type: new () => object, payload: object, settings: { whitelist: boolean; forbidNonWhitelisted: boolean }): Promise<Outcome> {
  const forbidden = forbiddenPaths(payload);
  if (forbidden.length > 0) return { issues: forbidden.map((path) => ({ path, constraints: { forbiddenKey: `${path} is a forbidden key` } })) };
  return referenceOutcome(type, payload, settings);
}

async function referenceOutcome(type: new () => object, payload: object, settings: { whitelist: boolean; forbidNonWhitelisted: boolean }): Promise<Outcome> {
  try {
    const instance = plainToInstance(type, structuredClone(payload));
    const errors = await validate(instance, { ...settings, forbidUnknownValues: true });
    return errors.length > 0 ? { issues: flattenValidationErrors(errors) } : { accepted: instance };
  } catch (error) {
    return { threw: String(error) };
  }
}

async function settle(run: () => unknown): Promise<Outcome> {
  try {
    return { accepted: (await run()) as object };
  } catch (error) {
    const issues = (error as { issues?: ValidationIssue[] }).issues;
    return issues ? { issues: [...issues] } : { threw: String(error) };
  }
}

function expectSameOutcome(actual: Outcome | typeof FORBIDDEN_KEY_FOUND, expected: Outcome, payload: object): void {
  const context = describePayload(payload);
  if (actual === FORBIDDEN_KEY_FOUND) expect.fail(`forbidden key reported for ${context}`);
  if ('accepted' in expected) {
    expect(actual, `rejected a payload class-validator accepts: ${context}\n${JSON.stringify(actual)}`).to.have.property('accepted');
    expectSameInstance((actual as { accepted: object }).accepted, expected.accepted, '', context);
  } else if ('issues' in expected) {
    expect(actual, `accepted a payload class-validator rejects: ${context}\n${JSON.stringify(expected.issues)}`).to.have.property('issues');
    const issues = (actual as { issues: ValidationIssue[] }).issues;
    expect(sortedPaths(issues), context).to.deep.equal(sortedPaths(expected.issues));
    // Same constraint names and the same messages, in class-validator's own order.
    expect(issues, context).to.deep.equal(expected.issues);
  } else {
    expect(actual, context).to.deep.equal(expected);
  }
}

/** Deep equality that also requires the same class at every level and tells NaN, -0 and missing keys apart. */
function expectSameInstance(actual: unknown, expected: unknown, path: string, context: string): void {
  const where = `at "${path}" of ${context}`;
  if (typeof expected !== 'object' || expected === null) {
    expect(Object.is(actual, expected), `${where}: ${String(actual)} vs ${String(expected)}`).to.equal(true);
    return;
  }
  expect(typeof actual === 'object' && actual !== null, `object ${where}`).to.equal(true);
  expect(Object.getPrototypeOf(actual), `class ${where}`).to.equal(Object.getPrototypeOf(expected));
  if (expected instanceof Date) {
    expect(Object.is((actual as Date).getTime(), expected.getTime()), where).to.equal(true);
    return;
  }
  expect(Object.keys(actual as object).sort(), `keys ${where}`).to.deep.equal(Object.keys(expected).sort());
  for (const key of Object.keys(expected)) {
    expectSameInstance((actual as Record<string, unknown>)[key], (expected as Record<string, unknown>)[key], path ? `${path}.${key}` : key, context);
  }
}

function sortedPaths(issues: readonly ValidationIssue[]): string[] {
  return issues.map((issue) => `${issue.path} ${Object.keys(issue.constraints).sort().join(',')}`).sort();
}

/** Keys such as `toString` or `hasOwnProperty`, which class-transformer skips: the compiled code leaves them to it. */
function hasObjectPrototypeKey(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  return Object.keys(value).some((key) => (key in Object.prototype && !FORBIDDEN_KEYS.has(key)) || hasObjectPrototypeKey((value as Record<string, unknown>)[key]));
}

function describePayload(payload: object): string {
  const text = JSON.stringify(payload, (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? String(value) : value === undefined ? '(undefined)' : value));
  return text.length > 600 ? `${text.slice(0, 600)}…` : text;
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}
