import type { JsonSchema } from './json-schema';

/**
 * Which way a schema change can hurt. A service that *accepts* a message (a receive operation,
 * a reply it waits for) breaks its senders when the new schema is narrower; a service that
 * *produces* one (a send operation) breaks its consumers when the new schema is wider.
 */
export type Direction = 'accepts' | 'produces';

/** A difference between two schemas, found at a JSON path into the payload. */
export interface SchemaChange {
  path: string;
  /**
   * `narrowed`: fewer messages are valid; `widened`: more are; `changed`: neither contains the other;
   * `neutral`: documented differently, same messages in practice (an optional property added: any
   * property was already allowed, and Warren strips unknown ones).
   */
  effect: 'narrowed' | 'widened' | 'changed' | 'neutral';
  message: string;
}

/** Resolves a local `$ref` (`#/components/schemas/X`) in the document it came from. */
export type RefResolver = (schema: JsonSchema) => JsonSchema;

const LOWER_BOUNDS = ['minimum', 'exclusiveMinimum', 'minLength', 'minItems', 'minProperties'] as const;
const UPPER_BOUNDS = ['maximum', 'exclusiveMaximum', 'maxLength', 'maxItems', 'maxProperties'] as const;

/**
 * Compares two JSON Schemas of one message and lists what changed and whether it narrows or
 * widens the set of valid messages. Recursive schemas are followed once per pair of `$ref`s.
 *
 * @example
 * ```ts
 * compareSchemas({ type: 'object', required: [] }, { type: 'object', required: ['id'] }, resolveOld, resolveNew);
 * // [{ path: 'payload', effect: 'narrowed', message: 'property "id" is now required' }]
 * ```
 */
export function compareSchemas(before: JsonSchema, after: JsonSchema, resolveBefore: RefResolver, resolveAfter: RefResolver, path = 'payload'): SchemaChange[] {
  const changes: SchemaChange[] = [];
  const seen = new Set<string>();
  const visit = (rawOld: JsonSchema, rawNew: JsonSchema, at: string) => {
    // A shared or recursive class is compared once, at the first path that reaches it.
    const pairKey = `${String(rawOld.$ref)}|${String(rawNew.$ref)}`;
    if (rawOld.$ref && rawNew.$ref) {
      if (seen.has(pairKey)) return;
      seen.add(pairKey);
    }
    const old = flatten(rawOld, resolveBefore);
    const neu = flatten(rawNew, resolveAfter);
    const add = (effect: SchemaChange['effect'], message: string) => changes.push({ path: at, effect, message });

    compareTypes(typesOf(old), typesOf(neu), add);
    compareValueSets(old, neu, add);
    for (const keyword of LOWER_BOUNDS) compareBound(keyword, old[keyword], neu[keyword], 'lower', add);
    for (const keyword of UPPER_BOUNDS) compareBound(keyword, old[keyword], neu[keyword], 'upper', add);
    for (const keyword of ['pattern', 'format', 'multipleOf', 'contentEncoding'] as const) {
      if (old[keyword] === neu[keyword]) continue;
      if (old[keyword] === undefined) add('narrowed', `${keyword} ${JSON.stringify(neu[keyword])} added`);
      else if (neu[keyword] === undefined) add('widened', `${keyword} ${JSON.stringify(old[keyword])} removed`);
      else add('changed', `${keyword} changed from ${JSON.stringify(old[keyword])} to ${JSON.stringify(neu[keyword])}`);
    }
    if (!old.uniqueItems && neu.uniqueItems) add('narrowed', 'items must now be unique');
    if (old.uniqueItems && !neu.uniqueItems) add('widened', 'items no longer need to be unique');
    if (old.additionalProperties !== false && neu.additionalProperties === false) add('narrowed', 'additional properties are now refused');

    const oldRequired = new Set((old.required as string[] | undefined) ?? []);
    const newRequired = new Set((neu.required as string[] | undefined) ?? []);
    const oldProps = (old.properties ?? {}) as Record<string, JsonSchema>;
    const newProps = (neu.properties ?? {}) as Record<string, JsonSchema>;
    for (const name of newRequired) {
      if (!oldRequired.has(name)) add('narrowed', name in oldProps ? `property "${name}" is now required` : `required property "${name}" added`);
    }
    for (const name of oldRequired) {
      if (!newRequired.has(name)) add('widened', name in newProps ? `property "${name}" is no longer required` : `required property "${name}" removed`);
    }
    for (const name of Object.keys(newProps)) {
      if (!(name in oldProps) && !newRequired.has(name)) add(old.additionalProperties === false ? 'widened' : 'neutral', `optional property "${name}" added`);
    }
    for (const name of Object.keys(oldProps)) {
      // Readers of an optional property already cope with its absence.
      if (!(name in newProps) && !oldRequired.has(name)) add('neutral', `optional property "${name}" removed`);
      if (name in newProps) visit(oldProps[name]!, newProps[name]!, `${at}.${name}`);
    }
    if (isSchema(old.items) && isSchema(neu.items)) visit(old.items, neu.items, `${at}[]`);
    for (const keyword of ['oneOf', 'anyOf'] as const) {
      if (JSON.stringify(old[keyword]) !== JSON.stringify(neu[keyword])) add('changed', `${keyword} alternatives changed`);
    }
  };
  visit(before, after, path);
  return changes;
}

function isSchema(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Follows `$ref`s and merges `allOf` members (how the generator adds keywords next to a `$ref`). */
function flatten(schema: JsonSchema, resolve: RefResolver, depth = 0): JsonSchema {
  if (depth > 32) return schema;
  let current = schema.$ref ? { ...resolve(schema), ...withoutKey(schema, '$ref') } : schema;
  if (current.$ref) current = flatten(current, resolve, depth + 1);
  if (Array.isArray(current.allOf)) {
    let merged: JsonSchema = withoutKey(current, 'allOf');
    for (const part of current.allOf as JsonSchema[]) merged = { ...flatten(part, resolve, depth + 1), ...merged };
    return merged;
  }
  return current;
}

function withoutKey(schema: JsonSchema, key: string): JsonSchema {
  const { [key]: _removed, ...rest } = schema;
  return rest;
}

function typesOf(schema: JsonSchema): string[] | undefined {
  const type = schema.type;
  if (type === undefined) return undefined;
  return (Array.isArray(type) ? type : [type]).map(String).sort();
}

function compareTypes(old: string[] | undefined, neu: string[] | undefined, add: (effect: SchemaChange['effect'], message: string) => void): void {
  if (JSON.stringify(old) === JSON.stringify(neu)) return;
  const label = (t: string[] | undefined) => (t ? t.join(' | ') : 'any');
  const widens = (from: string[] | undefined, to: string[] | undefined) =>
    !to || (from !== undefined && from.every((t) => to.includes(t) || (t === 'integer' && to.includes('number'))));
  const effect = widens(old, neu) ? 'widened' : widens(neu, old) ? 'narrowed' : 'changed';
  add(effect, `type changed from ${label(old)} to ${label(neu)}`);
}

function compareValueSets(old: JsonSchema, neu: JsonSchema, add: (effect: SchemaChange['effect'], message: string) => void): void {
  const values = (s: JsonSchema): unknown[] | undefined => ('const' in s ? [s.const] : Array.isArray(s.enum) ? s.enum : undefined);
  const before = values(old);
  const after = values(neu);
  if (!before && !after) return;
  if (!before) return add('narrowed', `values restricted to ${JSON.stringify(after)}`);
  if (!after) return add('widened', `values no longer restricted to ${JSON.stringify(before)}`);
  const has = (list: unknown[], v: unknown) => list.some((x) => JSON.stringify(x) === JSON.stringify(v));
  const removed = before.filter((v) => !has(after, v));
  const added = after.filter((v) => !has(before, v));
  if (removed.length) add('narrowed', `value(s) ${removed.map((v) => JSON.stringify(v)).join(', ')} removed`);
  if (added.length) add('widened', `value(s) ${added.map((v) => JSON.stringify(v)).join(', ')} added`);
}

function compareBound(keyword: string, old: unknown, neu: unknown, kind: 'lower' | 'upper', add: (effect: SchemaChange['effect'], message: string) => void): void {
  if (old === neu) return;
  if (old === undefined) return add('narrowed', `${keyword} ${String(neu)} added`);
  if (neu === undefined) return add('widened', `${keyword} ${String(old)} removed`);
  if (typeof old !== 'number' || typeof neu !== 'number') return add('changed', `${keyword} changed from ${String(old)} to ${String(neu)}`);
  const tighter = kind === 'lower' ? neu > old : neu < old;
  add(tighter ? 'narrowed' : 'widened', `${keyword} ${tighter ? 'tightened' : 'relaxed'} from ${old} to ${neu}`);
}
