import { ConfigurationError, DispatchConflictError } from './errors';
import { topicMatches, topicPattern, topicWords } from './transports/memory/routing';

/**
 * Which `@Consumer` method of a queue takes a delivery, when several share the queue (or one filters
 * on `type`). The rules, in order:
 *
 * 1. **Type.** A method with `{ type }` takes exactly the deliveries whose AMQP `type` property is
 *    that value, whatever their routing key. Two methods of one queue cannot share a type.
 * 2. **Routing key**, for the other deliveries and the methods without `type`, on direct and topic
 *    exchanges: an exact key first; then topic patterns, most specific first — fewer `#`, then fewer
 *    `*`, then more words, then, reading left to right, a literal word before `*` before `#`.
 *    Patterns of two methods that rank equal and can match one key are refused at start.
 * 3. On exchanges that do not route by key (fanout, headers, the default exchange, plugin types),
 *    one method of the queue may go without `type`: it takes every delivery no typed method takes.
 *
 * Anything else has no handler (`NO_HANDLER`). The key is the one the message was first published
 * with (`ctx.routingKey`: kept across retries and replays). Pure: the runtime and the CLI share it.
 */

/** What dispatch reads of a consumer plan. */
export interface DispatchTarget {
  readonly id: string;
  readonly queue: string;
  readonly exchange: string;
  readonly exchangeType: string;
  readonly routingKeys: readonly string[];
  readonly definition: { readonly options: { readonly type?: string } };
}

/** The longest `type` property AMQP carries (a short string). */
const MAX_TYPE_BYTES = 255;

interface Pattern<T> {
  readonly key: string;
  readonly words: readonly string[];
  readonly target: T;
}

/**
 * The dispatch rules of one queue, built at start (where conflicts are refused) and read per delivery.
 *
 * @example
 * ```ts
 * const table = DispatchTable.build(app.consumers.filter((c) => c.queue === 'billing.orders'));
 * table.select('OrderNote', 'order.note.added')?.id; // 'OrderBilling.note'
 * table.select(undefined, 'order.shipped')?.id;      // 'OrderBilling.other'
 * ```
 */
export class DispatchTable<T extends DispatchTarget> {
  private constructor(
    private readonly byType: ReadonlyMap<string, T>,
    private readonly exact: ReadonlyMap<string, T>,
    private readonly patterns: ReadonlyArray<Pattern<T>>,
    private readonly fallback: T | undefined,
  ) {}

  /** Whether the methods of one queue need dispatching: several of them, or one that filters on `type`. */
  static needed(targets: readonly DispatchTarget[]): boolean {
    return targets.length > 1 || targets.some((t) => t.definition.options.type !== undefined);
  }

  /** The table for the methods of one queue; a `DispatchConflictError` when two could claim one delivery. */
  static build<T extends DispatchTarget>(targets: readonly T[]): DispatchTable<T> {
    const queue = targets[0]?.queue ?? '';
    const byType = new Map<string, T>();
    const untyped: T[] = [];
    for (const target of targets) {
      const type = target.definition.options.type;
      if (type === undefined) {
        untyped.push(target);
        continue;
      }
      assertType(type, target.id);
      const other = byType.get(type);
      if (other) throw new DispatchConflictError(queue, [other.id, target.id], `both take messages of type ${JSON.stringify(type)}`);
      byType.set(type, target);
    }
    const first = targets[0];
    if (!first || !routesByKey(first)) {
      if (untyped.length > 1) {
        const what = first!.exchange === '' ? 'the default exchange' : `a ${first!.exchangeType} exchange`;
        throw new DispatchConflictError(queue, [untyped[0]!.id, untyped[1]!.id], `both take every message: ${what} does not route by key, so methods sharing its queue are told apart by { type }; give one of them (or both) a type`);
      }
      return new DispatchTable(byType, new Map(), [], untyped[0]);
    }
    const exact = new Map<string, T>();
    const patterns: Array<Pattern<T>> = [];
    for (const target of untyped) {
      for (const key of new Set(target.routingKeys)) {
        if (first.exchangeType === 'topic' && topicWords(key).some((w) => w === '*' || w === '#')) {
          patterns.push({ key, words: topicPattern(key), target });
          continue;
        }
        const other = exact.get(key);
        if (other && other !== target) throw new DispatchConflictError(queue, [other.id, target.id], `both bind the routing key ${JSON.stringify(key)} without a type to tell them apart`);
        exact.set(key, target);
      }
    }
    patterns.sort((a, b) => precedence(a.words, b.words));
    assertNoTies(queue, patterns);
    return new DispatchTable(byType, exact, patterns, undefined);
  }

  /** The method for a delivery of `type` first published with `routingKey`, or undefined: no handler. */
  select(type: string | undefined, routingKey: string): T | undefined {
    // Maps, never plain objects: an untrusted key like `__proto__` or `constructor` finds nothing.
    if (type !== undefined) {
      const typed = this.byType.get(type);
      if (typed) return typed;
    }
    if (this.fallback) return this.fallback;
    const exact = this.exact.get(routingKey);
    if (exact) return exact;
    if (this.patterns.length === 0) return undefined;
    const words = topicWords(routingKey);
    return this.patterns.find((p) => topicMatches(p.words, words))?.target;
  }

  /** What each method takes, in the order the rules try them: for people (`warren topology`, errors). */
  describe(): Array<{ takes: string; consumer: string }> {
    return [
      ...[...this.byType].map(([type, t]) => ({ takes: `type ${JSON.stringify(type)}`, consumer: t.id })),
      ...[...this.exact].map(([key, t]) => ({ takes: `routing key ${JSON.stringify(key)}`, consumer: t.id })),
      ...this.patterns.map((p) => ({ takes: `routing key pattern ${JSON.stringify(p.key)}`, consumer: p.target.id })),
      ...(this.fallback ? [{ takes: 'every other message', consumer: this.fallback.id }] : []),
    ];
  }
}

function routesByKey(target: DispatchTarget): boolean {
  return target.exchange !== '' && (target.exchangeType === 'direct' || target.exchangeType === 'topic');
}

function assertType(type: unknown, id: string): void {
  if (typeof type !== 'string' || type === '' || Buffer.byteLength(type) > MAX_TYPE_BYTES) {
    throw new ConfigurationError(`${id}: type must be a non-empty string of at most ${MAX_TYPE_BYTES} bytes (the AMQP type property); got ${JSON.stringify(type)}.`);
  }
}

const KIND = (word: string): number => (word === '#' ? 2 : word === '*' ? 1 : 0);

/**
 * Negative when topic pattern `a` takes precedence over `b`: fewer `#`, then fewer `*`, then more
 * words, then the first word (left to right) where they differ in kind: literal, then `*`, then `#`.
 */
export function precedence(a: readonly string[], b: readonly string[]): number {
  const count = (words: readonly string[], wildcard: string) => words.reduce((n, w) => n + (w === wildcard ? 1 : 0), 0);
  const byWildcards = count(a, '#') - count(b, '#') || count(a, '*') - count(b, '*') || b.length - a.length;
  if (byWildcards !== 0) return byWildcards;
  for (let i = 0; i < a.length; i++) {
    const kind = KIND(a[i]!) - KIND(b[i]!);
    if (kind !== 0) return kind;
  }
  return 0;
}

/** Patterns are sorted: equal precedence sits side by side. Two of different methods that can match one key are refused. */
function assertNoTies<T extends DispatchTarget>(queue: string, patterns: ReadonlyArray<Pattern<T>>): void {
  for (let i = 0; i < patterns.length; i++) {
    for (let j = i + 1; j < patterns.length && precedence(patterns[i]!.words, patterns[j]!.words) === 0; j++) {
      const [a, b] = [patterns[i]!, patterns[j]!];
      if (a.target !== b.target && topicPatternsOverlap(a.words, b.words)) {
        throw new DispatchConflictError(queue, [a.target.id, b.target.id], `bind the topic patterns ${JSON.stringify(a.key)} and ${JSON.stringify(b.key)}, which rank equal and can match the same routing key; make one more specific, or tell them apart by { type }`);
      }
    }
  }
}

/**
 * Whether some routing key matches both topic patterns: a search over pairs of positions, where `#`
 * may match no word (skipped) or one more word (kept), `*` one word, a literal only itself.
 */
export function topicPatternsOverlap(a: readonly string[], b: readonly string[]): boolean {
  const width = b.length + 1;
  const seen = new Set<number>();
  const pending: Array<[number, number]> = [];
  const visit = (i: number, j: number) => {
    if (!seen.has(i * width + j)) {
      seen.add(i * width + j);
      pending.push([i, j]);
    }
  };
  visit(0, 0);
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [i, j] = next;
    if (i === a.length && j === b.length) return true;
    if (a[i] === '#') visit(i + 1, j);
    if (b[j] === '#') visit(i, j + 1);
    if (i < a.length && j < b.length) {
      const [x, y] = [a[i]!, b[j]!];
      if (KIND(x) > 0 || KIND(y) > 0 || x === y) visit(x === '#' ? i : i + 1, y === '#' ? j : j + 1);
    }
  }
  return false;
}
