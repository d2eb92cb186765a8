import type { ValidationIssue } from '../errors';

/**
 * Keys a payload may never carry, at any depth. `JSON.parse('{"__proto__": {...}}')` creates an own
 * property named `__proto__`; anything that later copies it with `obj[key] = value` (class-transformer
 * does) replaces the copy's prototype instead. `constructor` and `prototype` are the other two steps
 * of the usual pollution gadgets. Payloads with them are refused before any transformation.
 */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Deeper payloads are refused too: no DTO nests this far, and walking (or transforming) a payload
 * nested tens of thousands of levels deep would overflow the stack.
 */
export const MAX_PAYLOAD_DEPTH = 256;

/**
 * True when `value` holds a forbidden own key anywhere (objects by their own keys, arrays by
 * element), or nests deeper than {@link MAX_PAYLOAD_DEPTH}: both refuse the payload as a whole.
 */
export function containsForbiddenKey(value: unknown, depth = 0): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (depth > MAX_PAYLOAD_DEPTH) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (containsForbiddenKey(value[i], depth + 1)) return true;
    return false;
  }
  const keys = Object.keys(value);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    if (FORBIDDEN_KEYS.has(key) || containsForbiddenKey((value as Record<string, unknown>)[key], depth + 1)) return true;
  }
  return false;
}

/**
 * One issue per forbidden key, depth first in key order, e.g.
 * `{ path: 'items.0.__proto__', constraints: { forbiddenKey: 'items.0.__proto__ is a forbidden key' } }`,
 * and one `maxDepth` issue where the payload nests too deep.
 * The value under a forbidden key is not searched further: it is refused as a whole.
 */
export function forbiddenKeyIssues(value: unknown, path = '', issues: ValidationIssue[] = [], depth = 0): ValidationIssue[] {
  if (typeof value !== 'object' || value === null) return issues;
  if (depth > MAX_PAYLOAD_DEPTH) {
    issues.push({ path, constraints: { maxDepth: `the payload nests deeper than ${MAX_PAYLOAD_DEPTH} levels` } });
    return issues;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) forbiddenKeyIssues(value[i], joinPath(path, String(i)), issues, depth + 1);
    return issues;
  }
  for (const key of Object.keys(value)) {
    const keyPath = joinPath(path, key);
    if (FORBIDDEN_KEYS.has(key)) issues.push({ path: keyPath, constraints: { forbiddenKey: `${keyPath} is a forbidden key` } });
    else forbiddenKeyIssues((value as Record<string, unknown>)[key], keyPath, issues, depth + 1);
  }
  return issues;
}

/** Dotted property path, as in `ValidationIssue.path`. */
export function joinPath(parent: string, segment: string): string {
  return parent === '' ? segment : `${parent}.${segment}`;
}
