/**
 * Deterministic payload generation for the differential test: a seeded PRNG, and mutations that turn
 * a valid payload into the kinds of broken ones a consumer meets (missing fields, wrong types,
 * boundaries ±1, null / undefined / NaN, extra and forbidden keys, wrong nesting, empty and oversized
 * arrays, huge and unicode strings).
 */

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  string(length: number, alphabet = 'abcdefghijklmnopqrstuvwxyz'): string {
    let text = '';
    for (let i = 0; i < length; i++) text += alphabet[Math.floor(this.next() * alphabet.length)];
    return text;
  }

  uuid(version: 1 | 4 = 4): string {
    const hex = (n: number) => this.string(n, '0123456789abcdef');
    return `${hex(8)}-${hex(4)}-${version}${hex(3)}-${this.pick(['8', '9', 'a', 'b'])}${hex(3)}-${hex(12)}`;
  }

  /** Usually a boundary (or a neighbour of one), otherwise anything in range. */
  around(min: number, max: number): number {
    return this.chance(0.5) ? this.pick([min, max, min + 1, max - 1]) : this.int(min, max);
  }
}

type Container = Record<string, unknown> | unknown[];

/** Values that break things: wrong types, edges of number and string handling, unicode. */
const NASTY_VALUES: ReadonlyArray<() => unknown> = [
  () => null, () => undefined, () => NaN, () => Infinity, () => -Infinity, () => 0, () => -0, () => -1, () => 1,
  () => 1.5, () => 0.005, () => 1e-7, () => 2 ** 53, () => 1e21, () => '', () => ' ', () => 'x', () => '1', () => 'true',
  () => 'A'.repeat(5000), () => '😀ß中\u0000\u202e', () => true, () => false, () => ({}), () => [], () => [1, 'a', null],
  () => ({ a: 1 }), () => '2024-02-30T10:00:00Z', () => '2024-05-01T10:00:00.000Z', () => '0b5d3a4e-7a8b-4c3d-9e2f-1a2b3c4d5e6f',
  () => 'someone@example.com', () => 'https://example.com/a?b=c', () => new Date('2024-05-01T10:00:00Z'), () => 12345678901234567890,
];

const EXTRA_KEYS = ['extra', 'id', 'note2', 'toString', 'hasOwnProperty', 'valueOf', '0', 'ünïcode', ''];
const FORBIDDEN = ['__proto__', 'constructor', 'prototype'];

/** Applies `count` random mutations to a deep copy of `payload`. */
export function mutate(payload: Record<string, unknown>, random: Random, count: number): Record<string, unknown> {
  const copy = structuredClone(payload);
  for (let i = 0; i < count; i++) mutateOnce(copy, random);
  return copy;
}

function mutateOnce(root: Record<string, unknown>, random: Random): void {
  const slots = collectSlots(root);
  const [container, key] = random.pick(slots);
  const value = (container as Record<string, unknown>)[key];
  const kind = random.int(0, 11);
  const set = (next: unknown) => { (container as Record<string, unknown>)[key] = next; };
  switch (kind) {
    case 0:
      if (Array.isArray(container)) container.splice(Number(key), 1);
      else delete container[key];
      return;
    case 1: case 2: case 3:
      return set(random.pick(NASTY_VALUES)());
    case 4:
      if (typeof value === 'number') return set(value + random.pick([-1, 1, -0.01, 0.01, 0.001]) * (random.chance(0.1) ? 1e6 : 1));
      return set(random.pick(NASTY_VALUES)());
    case 5:
      if (typeof value === 'string') return set(random.pick([value + 'x', value.slice(0, -1), value.toUpperCase(), value.toLowerCase(), `${value}😀`, ` ${value}`]));
      return set(random.pick(NASTY_VALUES)());
    case 6: {
      const target = random.pick(collectObjects(root));
      target[random.pick(EXTRA_KEYS)] = random.pick(NASTY_VALUES)();
      return;
    }
    case 7:
      // Wrong nesting: an object where a primitive was, or the other way round.
      if (typeof value === 'object' && value !== null) return set(random.pick([5, 'x', null, [value], Array.isArray(value) ? value[0] : [5]]));
      return set(random.pick([{ value }, [value], [{ value }]]));
    case 8:
      if (Array.isArray(value)) return set(random.pick([[], [...value, ...value], Array.from({ length: 25 }, () => value[0])]));
      return set([]);
    case 9:
      return set(random.pick(['A'.repeat(random.int(0, 300)), '😀'.repeat(random.int(1, 40)), random.string(random.int(0, 60), 'aZ9-_. @😀ü')]));
    case 10: {
      // A forbidden key as JSON.parse creates it: an own property, not the prototype.
      const target = random.pick(collectObjects(root));
      Object.defineProperty(target, random.pick(FORBIDDEN), { value: { polluted: true }, enumerable: true, configurable: true, writable: true });
      return;
    }
    default:
      return set(structuredClone(random.pick(slots.map(([c, k]) => (c as Record<string, unknown>)[k]))));
  }
}

/** Every (container, key) in the payload, the root's keys included. */
function collectSlots(root: Container): Array<[Container, string]> {
  const slots: Array<[Container, string]> = [];
  const walk = (container: Container) => {
    for (const key of Object.keys(container)) {
      slots.push([container, key]);
      const value = (container as Record<string, unknown>)[key];
      if (typeof value === 'object' && value !== null && !(value instanceof Date)) walk(value as Container);
    }
  };
  walk(root);
  if (slots.length === 0) slots.push([root, 'missing']);
  return slots;
}

function collectObjects(root: Record<string, unknown>): Array<Record<string, unknown>> {
  const objects: Array<Record<string, unknown>> = [root];
  for (const [container, key] of collectSlots(root)) {
    const value = (container as Record<string, unknown>)[key];
    if (typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date)) objects.push(value as Record<string, unknown>);
  }
  return objects;
}

/** The paths of forbidden own keys, found independently of the code under test. */
export function forbiddenPaths(value: unknown, path = ''): string[] {
  if (typeof value !== 'object' || value === null) return [];
  const join = (segment: string) => (path === '' ? segment : `${path}.${segment}`);
  if (Array.isArray(value)) return value.flatMap((item, index) => forbiddenPaths(item, join(String(index))));
  return Object.keys(value).flatMap((key) => (FORBIDDEN.includes(key) ? [join(key)] : forbiddenPaths((value as Record<string, unknown>)[key], join(key))));
}
