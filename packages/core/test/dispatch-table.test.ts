import 'reflect-metadata';
import { expect } from 'chai';
import fc from 'fast-check';
import { DispatchConflictError } from '../src';
import { DispatchTable, precedence, topicPatternsOverlap, type DispatchTarget } from '../src/dispatch-table';
import { topicMatches, topicPattern, topicWords } from '../src/transports/memory/routing';

function method(id: string, keys: string[], options: { type?: string; exchangeType?: string; exchange?: string } = {}): DispatchTarget {
  return { id, queue: 'q', exchange: options.exchange ?? 'orders', exchangeType: options.exchangeType ?? 'topic', routingKeys: keys, definition: { options: { type: options.type } } };
}

function pick(table: DispatchTable<DispatchTarget>, routingKey: string, type?: string): string | undefined {
  return table.select(type, routingKey)?.id;
}

function conflict(build: () => unknown): DispatchConflictError {
  try {
    build();
  } catch (error) {
    expect(error).to.be.instanceOf(DispatchConflictError);
    expect((error as DispatchConflictError).code).to.equal('DISPATCH_CONFLICT');
    return error as DispatchConflictError;
  }
  throw new Error('expected a DispatchConflictError');
}

describe('DispatchTable', () => {
  it('takes a delivery by its type first, whatever its routing key', () => {
    const table = DispatchTable.build([method('exact', ['order.placed']), method('typed', ['order.#'], { type: 'OrderNoted' })]);
    expect(pick(table, 'order.placed', 'OrderNoted')).to.equal('typed');
    expect(pick(table, 'anything.at.all', 'OrderNoted')).to.equal('typed');
    expect(pick(table, 'order.placed', 'Other'), 'an unknown type falls back to the keys').to.equal('exact');
    expect(pick(table, 'order.other', undefined), 'a typed method takes nothing by key').to.equal(undefined);
  });

  it('prefers an exact routing key to any pattern', () => {
    const table = DispatchTable.build([method('any', ['#']), method('star', ['order.*']), method('exact', ['order.placed'])]);
    expect(pick(table, 'order.placed')).to.equal('exact');
    expect(pick(table, 'order.cancelled')).to.equal('star');
    expect(pick(table, 'invoice')).to.equal('any');
  });

  it('ranks topic patterns: fewer #, then fewer *, then more words, then a literal before * before # from the left', () => {
    const cases: Array<[winner: string, loser: string, key: string]> = [
      ['*.created', 'order.#', 'order.created'],
      ['order.*.*', 'order.#', 'order.a.b'],
      ['order.*', '*.*', 'order.created'],
      ['a.b.#', 'a.#', 'a.b.c'],
      ['order.*', '*.created', 'order.created'],
      ['a.*.#', 'a.#.*', 'a.b.c'],
    ];
    for (const [winner, loser, key] of cases) {
      expect(precedence(topicPattern(winner), topicPattern(loser)), `${winner} before ${loser}`).to.be.lessThan(0);
      const table = DispatchTable.build([method('loser', [loser]), method('winner', [winner])]);
      expect(pick(table, key), `${winner} vs ${loser} for ${key}`).to.equal('winner');
    }
  });

  it('matches keys on a direct exchange as exact text, wildcards included', () => {
    const table = DispatchTable.build([method('star', ['order.*'], { exchangeType: 'direct' }), method('placed', ['order.placed'], { exchangeType: 'direct' })]);
    expect(pick(table, 'order.*')).to.equal('star');
    expect(pick(table, 'order.created')).to.equal(undefined);
  });

  it('lets one method without a type take the rest on exchanges that do not route by key', () => {
    for (const options of [{ exchangeType: 'fanout' }, { exchangeType: 'headers' }, { exchange: '', exchangeType: 'direct' }]) {
      const table = DispatchTable.build([method('typed', [''], { type: 'A', ...options }), method('rest', [''], options)]);
      expect(pick(table, 'whatever', 'A')).to.equal('typed');
      expect(pick(table, 'whatever', 'B')).to.equal('rest');
      expect(pick(table, 'whatever')).to.equal('rest');
      conflict(() => DispatchTable.build([method('one', [''], options), method('two', [''], options)]));
    }
  });

  it('finds no method for a type or routing key that names an object property', () => {
    const table = DispatchTable.build([method('placed', ['order.placed'], { exchangeType: 'direct' }), method('typed', ['order.placed'], { exchangeType: 'direct', type: 'T' })]);
    for (const hostile of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype']) {
      expect(pick(table, hostile, hostile), hostile).to.equal(undefined);
    }
  });

  it('refuses methods that could claim one delivery with nothing to choose between them', () => {
    expect(conflict(() => DispatchTable.build([method('a', ['x'], { type: 'T' }), method('b', ['y'], { type: 'T' })])).message).to.contain('both take messages of type "T"');
    expect(conflict(() => DispatchTable.build([method('a', ['order.placed']), method('b', ['order.placed', 'x'])])).message).to.contain('both bind the routing key "order.placed"');
    expect(conflict(() => DispatchTable.build([method('a', ['order.*']), method('b', ['order.*'])])).message).to.contain('"order.*" and "order.*"');
    expect(conflict(() => DispatchTable.build([method('a', ['#.a.#']), method('b', ['#.b.#'])])).message).to.contain('rank equal');
    // Equal rank, but no key matches both: fine.
    expect(pick(DispatchTable.build([method('a', ['order.*']), method('b', ['invoice.*'])]), 'invoice.paid')).to.equal('b');
  });

  it('refuses a type AMQP cannot carry', () => {
    for (const type of ['', 'x'.repeat(256)]) {
      expect(() => DispatchTable.build([method('a', ['k'], { type })])).to.throw(/type must be a non-empty string of at most 255 bytes/);
    }
  });

  it('picks the method of the most specific matching key for any key (fast-check, against a reference)', () => {
    const word = fc.constantFrom('a', 'b', '*', '#');
    const pattern = fc.array(word, { minLength: 1, maxLength: 3 }).map((w) => w.join('.'));
    const methods = fc.array(fc.array(pattern, { minLength: 1, maxLength: 2 }), { minLength: 1, maxLength: 4 });
    const key = fc.array(fc.constantFrom('a', 'b', 'c'), { maxLength: 4 }).map((w) => w.join('.'));
    fc.assert(fc.property(methods, fc.array(key, { minLength: 1, maxLength: 10 }), (keysOf, routingKeys) => {
      const targets = keysOf.map((keys, i) => method(`m${i}`, keys));
      let table: DispatchTable<DispatchTarget>;
      try {
        table = DispatchTable.build(targets);
      } catch (error) {
        if (error instanceof DispatchConflictError) return;
        throw error;
      }
      for (const routingKey of routingKeys) {
        const matching = targets.flatMap((t) => t.routingKeys.filter((k) => topicMatches(topicPattern(k), topicWords(routingKey))).map((k) => ({ t, words: topicPattern(k) })));
        matching.sort((x, y) => precedence(x.words, y.words));
        const best = matching[0];
        // Every match that ranks with the best belongs to the same method (the table refused the rest).
        for (const m of matching.filter((x) => best && precedence(x.words, best.words) === 0)) expect(m.t.id).to.equal(best!.t.id);
        expect(pick(table, routingKey), routingKey).to.equal(best?.t.id);
      }
    }), { numRuns: 500 });
  });
});

describe('topicPatternsOverlap', () => {
  /** Every key of up to `max` words over a, b, c. */
  function keys(max: number): string[][] {
    const out: string[][] = [[]];
    for (let length = 1; length <= max; length++) {
      for (const prefix of out.filter((k) => k.length === length - 1)) for (const w of ['a', 'b', 'c']) out.push([...prefix, w]);
    }
    return out;
  }
  const all = keys(6);

  it('says whether some routing key matches both patterns (fast-check, against every key of up to 6 words)', () => {
    const pattern = fc.array(fc.constantFrom('a', 'b', '*', '#'), { minLength: 0, maxLength: 3 });
    fc.assert(fc.property(pattern, pattern, (a, b) => {
      const [pa, pb] = [topicPattern(a.join('.')), topicPattern(b.join('.'))];
      const witness = all.some((k) => topicMatches(pa, k) && topicMatches(pb, k));
      expect(topicPatternsOverlap(pa, pb), `${a.join('.')} / ${b.join('.')}`).to.equal(witness);
    }), { numRuns: 1000 });
  });
});
