import { createHash } from 'node:crypto';
import type { QueueType } from './consumer-topology';
import type { ExchangeSpec, FieldTable, QueueBindingSpec, QueueSpec, Topology } from './transport';

/**
 * Delayed delivery without a broker plugin: a binary cascade of TTL queues, as NServiceBus's
 * RabbitMQ transport builds it (docs/scheduling.md draws it).
 *
 * Level N (0 … 31) is a topic exchange and a queue of the same name, `warren.delay.<type>.<NN>`,
 * whose `x-message-ttl` is 2^N ms. A delayed message's routing key spells its delay in binary, most
 * significant bit first, one word per level, then the id of its destination hop:
 * `0.….1.0.1.<hop id>`. Level N's exchange routes a 1 in word N to its queue — the message waits
 * 2^N ms there, then is dead-lettered, routing key unchanged, to level N−1's exchange — and a 0
 * straight on to level N−1's exchange. Level 0 ends in `warren.delay.deliver`, which routes on the
 * hop id alone to a **hop**: a queue with `x-message-ttl: 0` that dead-letters at once to the one
 * exchange and routing key it was declared with (a consumer's own queue for a retry, a route's
 * exchange and key for a delayed send). So every delay up to {@link MAX_DELAY_MS} waits in at most
 * 32 queues, the same 32 for every delay, and passes one dead-letter hop per bit set.
 *
 * Security rule: the routing key only *selects among hops a Warren service declared*; it never
 * names an exchange, and no header is read on the way. A key that is not 32 bits and a known hop
 * id goes to `warren.delay.unroutable` (every cascade exchange has it as alternate exchange).
 */

/** Levels in a cascade: one per bit of the delay in milliseconds. */
export const DELAY_LEVELS = 32;

/** The longest delay the cascade can hold: 2^32 − 1 ms, about 49.7 days. */
export const MAX_DELAY_MS = 2 ** DELAY_LEVELS - 1;

/** Where every level 0 ends: routes to hops by their id. Shared by both cascades. */
export const DELAY_DELIVERY_EXCHANGE = 'warren.delay.deliver';

/** Alternate exchange (fanout) of every cascade exchange, and the queue that keeps what it catches. */
export const DELAY_UNROUTABLE = 'warren.delay.unroutable';

/** The last step of a delayed message: a TTL-0 queue that dead-letters to one fixed destination. */
export interface DelayHop {
  /** The hop queue's name. */
  readonly name: string;
  /** The word that selects it in a delayed message's routing key (a hash of `name`). */
  readonly id: string;
  /** The type of the hop queue and of the cascade that feeds it. */
  readonly queueType: QueueType;
  /** Where it dead-letters to: `''` and a queue name for a retry. */
  readonly exchange: string;
  readonly routingKey: string;
}

/**
 * Exchange and queue name of one level.
 *
 * @example
 * ```ts
 * delayLevelName('classic', 7); // 'warren.delay.classic.07': holds messages 128 ms
 * ```
 */
export function delayLevelName(queueType: QueueType, level: number): string {
  return `warren.delay.${queueType}.${String(level).padStart(2, '0')}`;
}

/**
 * The hop a consumer's retries end in: `<queue>.retry`, the consumer's queue type, back to its queue.
 *
 * @example
 * ```ts
 * retryHop('billing.charge', 'quorum').name; // 'billing.charge.retry'
 * ```
 */
export function retryHop(queue: string, queueType: QueueType): DelayHop {
  return hop(`${queue}.retry`, queueType, '', queue);
}

/**
 * The hop of a publisher route's delayed sends: `warren.delay.<type>.to.<exchange>/<routing key>`
 * (a hash instead, past RabbitMQ's 255-byte name limit).
 *
 * @example
 * ```ts
 * routeHop('billing', 'invoice.due', 'classic').name; // 'warren.delay.classic.to.billing/invoice.due'
 * ```
 */
export function routeHop(exchange: string, routingKey: string, queueType: QueueType): DelayHop {
  const readable = `warren.delay.${queueType}.to.${exchange}/${routingKey}`;
  const name = Buffer.byteLength(readable) <= 255 ? readable : `warren.delay.${queueType}.to.${digest(`${exchange}\u0000${routingKey}`)}`;
  return hop(name, queueType, exchange, routingKey);
}

function hop(name: string, queueType: QueueType, exchange: string, routingKey: string): DelayHop {
  return { name, id: digest(name).slice(0, 32), queueType, exchange, routingKey };
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Where a message delayed by `delayMs` (1 … MAX_DELAY_MS) is published: its first level's exchange, and the key spelling the delay. */
export function delayedAddress(delayMs: number, hop: DelayHop): { exchange: string; routingKey: string } {
  const words: string[] = [];
  let first = 0;
  for (let level = DELAY_LEVELS - 1; level >= 0; level--) {
    const bit = Math.floor(delayMs / 2 ** level) % 2;
    if (bit === 1 && first === 0) first = level;
    words.push(String(bit));
  }
  words.push(hop.id);
  return { exchange: delayLevelName(hop.queueType, first), routingKey: words.join('.') };
}

/**
 * The delay a cascade routing key spells, and the hop id it ends in; undefined for any other key.
 * For tools and tests (the broker never needs it).
 *
 * @example
 * ```ts
 * readDelayedRoutingKey(message.routingKey); // { delayMs: 1500, hopId: '3fa9…' }
 * ```
 */
export function readDelayedRoutingKey(routingKey: string): { delayMs: number; hopId: string } | undefined {
  const words = routingKey.split('.');
  if (words.length !== DELAY_LEVELS + 1) return undefined;
  let delayMs = 0;
  for (let i = 0; i < DELAY_LEVELS; i++) {
    if (words[i] !== '0' && words[i] !== '1') return undefined;
    delayMs = delayMs * 2 + Number(words[i]);
  }
  return { delayMs, hopId: words[DELAY_LEVELS]! };
}

/** `*.*.….` for the words before level `level`'s bit. */
function wordsAbove(level: number): string {
  return '*.'.repeat(DELAY_LEVELS - 1 - level);
}

const UNROUTABLE_ARGUMENTS: FieldTable = Object.freeze({ 'alternate-exchange': DELAY_UNROUTABLE }) as FieldTable;

/** Arguments of a queue of the cascade (a level or a hop): its type, and at-least-once dead-lettering for quorum. */
function cascadeQueueArguments(queueType: QueueType, ttl: number, deadLetterExchange: string, deadLetterRoutingKey?: string): FieldTable {
  const args: FieldTable = { 'x-queue-type': queueType, 'x-message-ttl': ttl, 'x-dead-letter-exchange': deadLetterExchange };
  if (deadLetterRoutingKey !== undefined) args['x-dead-letter-routing-key'] = deadLetterRoutingKey;
  // Quorum: a message survives a node failure between levels, and waits while its target refuses
  // it (RabbitMQ allows at-least-once dead-lettering only with reject-publish overflow).
  if (queueType === 'quorum') Object.assign(args, { 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish' });
  return args;
}

/** The delivery exchange and the unroutable exchange and queue: what both cascades and every hop binding need. */
export function delayDeliveryTopology(): Required<Pick<Topology, 'exchanges' | 'queues' | 'bindings'>> {
  return {
    exchanges: [
      { name: DELAY_UNROUTABLE, type: 'fanout', durable: true },
      { name: DELAY_DELIVERY_EXCHANGE, type: 'topic', durable: true, arguments: { ...UNROUTABLE_ARGUMENTS } },
    ],
    // Classic whatever the cascade: it only collects what no hop claimed (forged keys, deleted hops).
    queues: [{ name: DELAY_UNROUTABLE, durable: true, arguments: { 'x-queue-type': 'classic' } }],
    bindings: [{ exchange: DELAY_UNROUTABLE, queue: DELAY_UNROUTABLE, routingKey: '' }],
  };
}

/**
 * Every exchange, queue and binding of one cascade (levels 31 … 0, the delivery exchange, the
 * unroutable queue), for tools that declare or list it.
 *
 * @example
 * ```ts
 * await transport.declare(delayCascadeTopology('quorum'));
 * ```
 */
export function delayCascadeTopology(queueType: QueueType): Required<Topology> {
  const delivery = delayDeliveryTopology();
  const exchanges: ExchangeSpec[] = [...delivery.exchanges];
  const queues: QueueSpec[] = [...delivery.queues];
  const bindings: QueueBindingSpec[] = [...delivery.bindings];
  const exchangeBindings: Required<Topology>['exchangeBindings'] = [];
  for (let level = DELAY_LEVELS - 1; level >= 0; level--) {
    const name = delayLevelName(queueType, level);
    const next = level === 0 ? DELAY_DELIVERY_EXCHANGE : delayLevelName(queueType, level - 1);
    exchanges.push({ name, type: 'topic', durable: true, arguments: { ...UNROUTABLE_ARGUMENTS } });
    queues.push({ name, durable: true, arguments: cascadeQueueArguments(queueType, 2 ** level, next) });
    bindings.push({ exchange: name, queue: name, routingKey: `${wordsAbove(level)}1.#` });
    exchangeBindings.push({ source: name, destination: next, routingKey: `${wordsAbove(level)}0.#` });
  }
  return { exchanges, queues, bindings, exchangeBindings };
}

/** A hop's queue: TTL 0, dead-lettering at once to its one destination. */
export function delayHopQueueSpec(hop: DelayHop): QueueSpec {
  return { name: hop.name, durable: true, arguments: cascadeQueueArguments(hop.queueType, 0, hop.exchange, hop.routingKey) };
}

/** The delivery exchange's binding to a hop: exactly 32 bit words, then the hop's id. */
export function delayHopBinding(hop: DelayHop): QueueBindingSpec {
  return { exchange: DELAY_DELIVERY_EXCHANGE, queue: hop.name, routingKey: `${'*.'.repeat(DELAY_LEVELS)}${hop.id}` };
}

/**
 * A hop with what it needs to be bound: the delivery exchange (and its alternate exchange and queue).
 *
 * @example
 * ```ts
 * await transport.declare(delayHopTopology(routeHop('billing', 'invoice.due', 'classic')));
 * ```
 */
export function delayHopTopology(hop: DelayHop): Required<Pick<Topology, 'exchanges' | 'queues' | 'bindings'>> {
  const delivery = delayDeliveryTopology();
  return {
    exchanges: delivery.exchanges,
    queues: [...delivery.queues, delayHopQueueSpec(hop)],
    bindings: [...delivery.bindings, delayHopBinding(hop)],
  };
}
