import type { FieldTable } from '../../transport';
import { fieldValuesEqual } from './field-table';

/**
 * The matching rules of RabbitMQ's topic and headers exchanges, as pure functions.
 *
 * Topic keys are split on `.` exactly as RabbitMQ splits them: `''` is zero words, `'a..b'` is three
 * words with an empty one in the middle, `'a.'` is `a` and an empty word. `*` matches one word (an
 * empty word too), `#` matches zero or more.
 */
export function topicWords(key: string): string[] {
  return key === '' ? [] : key.split('.');
}

/** Binding-key words with runs of `#` collapsed (`#.#` matches what `#` matches), to bound backtracking. */
export function topicPattern(bindingKey: string): string[] {
  const words = topicWords(bindingKey);
  return words.filter((word, i) => word !== '#' || words[i - 1] !== '#');
}

export function topicMatches(pattern: readonly string[], words: readonly string[]): boolean {
  return matchFrom(pattern, 0, words, 0);
}

function matchFrom(pattern: readonly string[], p: number, words: readonly string[], w: number): boolean {
  while (p < pattern.length) {
    const word = pattern[p];
    if (word === '#') {
      if (p === pattern.length - 1) return true;
      for (let skip = w; skip <= words.length; skip++) {
        if (matchFrom(pattern, p + 1, words, skip)) return true;
      }
      return false;
    }
    if (w >= words.length || (word !== '*' && word !== words[w])) return false;
    p++;
    w++;
  }
  return w === words.length;
}

export type HeadersMatch = 'all' | 'any' | 'all-with-x' | 'any-with-x';

const MATCH_KINDS: readonly string[] = ['all', 'any', 'all-with-x', 'any-with-x'];

/** The binding's `x-match`, or an error message when RabbitMQ would refuse the binding. */
export function headersMatchKind(args: FieldTable | undefined): HeadersMatch | string {
  const kind = args?.['x-match'] ?? 'all';
  if (typeof kind === 'string' && MATCH_KINDS.includes(kind)) return kind as HeadersMatch;
  return `Invalid x-match field value ${JSON.stringify(kind)}; expected all, any, all-with-x or any-with-x`;
}

/**
 * RabbitMQ's headers exchange: `all` needs every binding argument present with an equal value (a
 * `null` binding value only needs the header present); `any` needs one. Binding arguments starting
 * with `x-` take no part unless the match kind ends in `-with-x`; `x-match` itself never does. A
 * binding with nothing to compare matches every message under `all` and none under `any`.
 */
export function headersMatch(kind: HeadersMatch, args: FieldTable | undefined, headers: FieldTable | undefined): boolean {
  const all = kind === 'all' || kind === 'all-with-x';
  const withX = kind === 'all-with-x' || kind === 'any-with-x';
  if (args) {
    for (const key in args) {
      if (key === 'x-match' || (!withX && key.startsWith('x-'))) continue;
      const expected = args[key];
      const matched = headers !== undefined && Object.prototype.hasOwnProperty.call(headers, key) && headers[key] !== undefined
        && (expected === null || fieldValuesEqual(expected, headers[key]));
      if (all && !matched) return false;
      if (!all && matched) return true;
    }
  }
  return all;
}
