import { PublishError } from '../../errors';
import type { ExchangeBindingSpec, ExchangeSpec, FieldTable, MessageProperties, QueueBindingSpec, QueueSpec } from '../../transport';
import { assertEquivalentExchange, assertEquivalentQueue, parseQueueArguments, parseStreamArguments, refused } from './topology';
import { deadLetteredProperties, headerRoutes, isDeadLetterCycle, type DeathReason } from './dead-letter';
import { MemoryExchange, type Binding, type Destination } from './exchange';
import { copyTable } from './field-table';
import type { MessageContent, QueuedMessage } from './message';
import { MemoryQueue, type QueueOwner } from './queue';
import { MemoryStream } from './stream';

/** What a queue name can stand for: a classic or quorum queue, or a stream. */
export type AnyQueue = MemoryQueue | MemoryStream;
import { headersMatchKind, topicPattern, topicWords } from './routing';

/** How often an at-least-once dead letter is offered again to a queue that refused it. */
const DEAD_LETTER_RETRY_MS = 100;

/**
 * How often an at-least-once dead letter that reached no queue (no exchange, no binding) is routed
 * again. RabbitMQ waits its publisher-confirm timeout (3 minutes by default); what matters here is
 * that the message is kept and arrives once something routes it.
 */
const DEAD_LETTER_REROUTE_MS = 1000;

/** What became of a published message: taken by at least one queue, by none, or refused by one (overflow). */
export type PublishOutcome = 'routed' | 'unroutable' | 'refused';

const PREDECLARED: ReadonlyArray<[string, MemoryExchange['type']]> = [
  ['amq.direct', 'direct'], ['amq.fanout', 'fanout'], ['amq.topic', 'topic'], ['amq.headers', 'headers'], ['amq.match', 'headers'],
];

/**
 * The exchanges, queues and bindings of one in-memory virtual host, and the routing between them:
 * exchange-to-exchange bindings, alternate exchanges, the default exchange and dead-lettering.
 * Routing is synchronous; only the hand-over to handlers is deferred (see QueueConsumer).
 */
export class MemoryBroker implements QueueOwner {
  private readonly exchanges = new Map<string, MemoryExchange>();
  private readonly queues = new Map<string, AnyQueue>();
  private routingPass = 0;
  // Scratch space for route(), which never re-enters itself.
  private readonly pending: MemoryExchange[] = [];
  private readonly matched: Destination[] = [];

  constructor() {
    this.exchanges.set('', new MemoryExchange('', 'direct', true, false, false, undefined));
    for (const [name, type] of PREDECLARED) this.exchanges.set(name, new MemoryExchange(name, type, true, false, false, undefined));
  }

  declareExchange(spec: ExchangeSpec): void {
    if (spec.name === '') throw refused('ACCESS_REFUSED', 'operation not permitted on the default exchange.');
    if (!['direct', 'topic', 'fanout', 'headers'].includes(spec.type)) {
      throw refused('PRECONDITION_FAILED', `unknown exchange type "${spec.type}" for exchange "${spec.name}"; use direct, topic, fanout or headers.`);
    }
    const alternate = spec.arguments?.['alternate-exchange'];
    if (alternate !== undefined && typeof alternate !== 'string') {
      throw refused('PRECONDITION_FAILED', `invalid arg 'alternate-exchange' for exchange "${spec.name}": ${JSON.stringify(alternate)}; expected a string.`);
    }
    const existing = this.exchanges.get(spec.name);
    if (existing) return assertEquivalentExchange(existing, spec);
    if (spec.name.startsWith('amq.')) throw refused('ACCESS_REFUSED', `exchange name "${spec.name}" contains the reserved prefix "amq.".`);
    this.exchanges.set(spec.name, new MemoryExchange(spec.name, spec.type, spec.durable ?? true, spec.autoDelete ?? false, spec.internal ?? false, alternate));
  }

  declareQueue(spec: QueueSpec): void {
    if (spec.name === '') throw refused('PRECONDITION_FAILED', 'the in-memory broker does not generate queue names; give the queue a name.');
    const existing = this.queues.get(spec.name);
    if (existing) return assertEquivalentQueue(existing, spec);
    if (spec.name.startsWith('amq.')) throw refused('ACCESS_REFUSED', `queue name "${spec.name}" contains the reserved prefix "amq.".`);
    const args = spec.arguments && copyTable(spec.arguments);
    const flags = { durable: spec.durable ?? true, exclusive: spec.exclusive ?? false, autoDelete: spec.autoDelete ?? false };
    if (args?.['x-queue-type'] === 'stream') {
      this.queues.set(spec.name, MemoryStream.fromSpec({ ...spec, arguments: args }, parseStreamArguments(spec.name, args, flags)));
      return;
    }
    const settings = parseQueueArguments(spec.name, args, flags);
    this.queues.set(spec.name, MemoryQueue.fromSpec({ ...spec, arguments: args }, settings, this));
  }

  bindQueue(spec: QueueBindingSpec): void {
    const source = this.bindingSource(spec.exchange);
    const queue = this.queue(spec.queue);
    source.bind(this.binding(source, queue, spec.routingKey, spec.arguments));
  }

  bindExchange(spec: ExchangeBindingSpec): void {
    const source = this.bindingSource(spec.source);
    if (spec.destination === '') throw refused('ACCESS_REFUSED', 'operation not permitted on the default exchange.');
    const destination = this.exchange(spec.destination);
    source.bind(this.binding(source, destination, spec.routingKey, spec.arguments));
  }

  /** The queue (or stream), or `TopologyError` (NOT_FOUND) as a passive declare would fail. */
  queue(name: string): AnyQueue {
    const queue = this.queues.get(name);
    if (!queue) throw refused('NOT_FOUND', `no queue "${name}" in the in-memory broker. Declare it first.`);
    return queue;
  }

  /** Deletes the queue and its bindings, cancelling its consumers; a missing queue is no error (as in RabbitMQ). */
  deleteQueue(name: string): void {
    const queue = this.queues.get(name);
    if (!queue) return;
    this.queues.delete(name);
    this.removeBindingsTo(queue);
    queue.destroy();
  }

  deleteExchange(name: string): void {
    if (name === '' || name.startsWith('amq.')) throw refused('ACCESS_REFUSED', `exchange "${name}" is predeclared and cannot be deleted.`);
    const exchange = this.exchanges.get(name);
    if (!exchange) return;
    this.exchanges.delete(name);
    this.removeBindingsTo(exchange);
  }

  /**
   * Routes a message the broker now owns. Throws `PublishError` where RabbitMQ would close the
   * publishing channel (missing or internal exchange, invalid expiration).
   */
  publish(exchangeName: string, routingKey: string, body: Buffer, properties: MessageProperties): PublishOutcome {
    const exchange = this.exchanges.get(exchangeName);
    if (!exchange) {
      throw new PublishError(`Publishing to exchange "${exchangeName}" failed (NOT_FOUND): the in-memory broker has no such exchange. Declare it first.`);
    }
    if (exchange.internal) {
      throw new PublishError(`Publishing to exchange "${exchangeName}" failed (ACCESS_REFUSED): it is internal and only takes messages from other exchanges.`);
    }
    const content: MessageContent = { body, properties, ttl: parseExpiration(exchangeName, properties.expiration) };
    let routingKeys = [routingKey];
    const headers = properties.headers;
    if (headers !== undefined && (headers.CC !== undefined || headers.BCC !== undefined)) {
      routingKeys = [routingKey, ...headerRoutes(headers, 'CC'), ...headerRoutes(headers, 'BCC')];
      // BCC routes the message but, unlike CC, never reaches a consumer.
      delete headers.BCC;
    }
    const queues = this.route(exchange, routingKeys, headers);
    let outcome: PublishOutcome = queues.length === 0 ? 'unroutable' : 'routed';
    for (const queue of queues) if (!queue.enqueue(content, exchangeName, routingKey)) outcome = 'refused';
    return outcome;
  }

  /**
   * QueueOwner: routes a dead-lettered copy through the queue's dead-letter exchange. At-most-once
   * (the default) drops it where a target refuses it, or when its exchange is missing or routes it
   * nowhere; an at-least-once quorum queue keeps offering it to the targets that refused (a full
   * `reject-publish` queue) until each has taken it, and keeps one that reached no queue, routing
   * it again later, as RabbitMQ 3.10+ does.
   */
  deadLetter(queue: MemoryQueue, message: QueuedMessage, reason: DeathReason): void {
    const { deadLetterExchange, deadLetterRoutingKey } = queue.settings;
    if (deadLetterExchange === undefined) return;
    const original = message.content.properties;
    const deathKeys = [message.routingKey, ...headerRoutes(original.headers, 'CC')];
    const explicitKey = deadLetterRoutingKey !== undefined;
    const properties = deadLetteredProperties(original, { reason, queue: queue.name, exchange: message.exchange, routingKeys: deathKeys }, explicitKey);
    const content: MessageContent = { body: message.content.body, properties, ttl: undefined };
    const routingKeys = explicitKey ? [deadLetterRoutingKey] : deathKeys;
    this.routeDeadLetter(queue, content, deadLetterExchange, routingKeys, reason);
  }

  private routeDeadLetter(source: MemoryQueue, content: MessageContent, exchangeName: string, routingKeys: string[], reason: DeathReason): void {
    const exchange = this.exchanges.get(exchangeName);
    const targets = exchange ? this.route(exchange, routingKeys, content.properties.headers) : [];
    if (targets.length === 0) {
      if (source.settings.atLeastOnceDeadLettering) {
        const timer = setTimeout(() => { if (!source.deleted) this.routeDeadLetter(source, content, exchangeName, routingKeys, reason); }, DEAD_LETTER_REROUTE_MS);
        timer.unref();
      }
      return;
    }
    const refusedBy: AnyQueue[] = [];
    for (const target of targets) {
      if (isDeadLetterCycle(content.properties.headers, target.name, reason)) continue;
      if (!target.enqueue(content, exchangeName, routingKeys[0]!)) refusedBy.push(target);
    }
    if (refusedBy.length > 0 && source.settings.atLeastOnceDeadLettering) this.redeliverDeadLetter(source, refusedBy, content, exchangeName, routingKeys[0]!);
  }

  /** At-least-once: offers a dead letter again to the queues that refused it, until each takes it or is deleted. */
  private redeliverDeadLetter(source: MemoryQueue, targets: AnyQueue[], content: MessageContent, exchange: string, routingKey: string): void {
    const timer = setTimeout(() => {
      if (source.deleted) return;
      const still = targets.filter((target) => !target.deleted && this.queues.get(target.name) === target && !target.enqueue(content, exchange, routingKey));
      if (still.length > 0) this.redeliverDeadLetter(source, still, content, exchange, routingKey);
    }, DEAD_LETTER_RETRY_MS);
    // Like a message waiting in RabbitMQ, a pending dead letter does not keep the process alive.
    timer.unref();
  }

  /** QueueOwner */
  autoDelete(queue: MemoryQueue): void {
    if (this.queues.get(queue.name) === queue) this.deleteQueue(queue.name);
  }

  /** Stops every queue's timers and cancels every consumer: nothing of this broker runs afterwards. */
  close(): void {
    for (const queue of this.queues.values()) queue.destroy();
    this.queues.clear();
  }

  /** Throws `TopologyError` (NOT_FOUND) unless the exchange exists, as a passive declare would. */
  inspectExchange(name: string): void {
    this.exchange(name);
  }

  private exchange(name: string): MemoryExchange {
    const exchange = this.exchanges.get(name);
    if (!exchange) throw refused('NOT_FOUND', `no exchange "${name}" in the in-memory broker. Declare it first.`);
    return exchange;
  }

  private bindingSource(name: string): MemoryExchange {
    if (name === '') throw refused('ACCESS_REFUSED', 'operation not permitted on the default exchange: it routes to the queue named by the routing key and takes no bindings.');
    return this.exchange(name);
  }

  private binding(source: MemoryExchange, destination: Destination, routingKey: string, args: FieldTable | undefined): Binding {
    const argumentsCopy = args && copyTable(args);
    const binding: Binding = {
      destination,
      routingKey,
      arguments: argumentsCopy,
      id: `${destination.kind}\u0000${destination.name}\u0000${routingKey}\u0000${argumentsKey(argumentsCopy)}`,
    };
    if (source.type === 'topic') return { ...binding, pattern: topicPattern(routingKey) };
    if (source.type === 'headers') {
      const match = headersMatchKind(argumentsCopy);
      if (match !== 'all' && match !== 'any' && match !== 'all-with-x' && match !== 'any-with-x') throw refused('PRECONDITION_FAILED', match);
      return { ...binding, match };
    }
    return binding;
  }

  /** Removes bindings leading to `destination`; auto-delete exchanges left without bindings go too. */
  private removeBindingsTo(destination: Destination): void {
    for (const exchange of [...this.exchanges.values()]) {
      if (exchange.unbindAll(destination) > 0 && exchange.autoDelete && exchange.bindingCount === 0 && this.exchanges.get(exchange.name) === exchange) {
        this.exchanges.delete(exchange.name);
        this.removeBindingsTo(exchange);
      }
    }
  }

  /**
   * The queues a message reaches, each once: the exchange's own bindings, then every exchange they
   * lead to, breadth first. An exchange whose bindings match nothing passes the message to its
   * alternate exchange. Each exchange is visited once, so binding cycles end.
   */
  private route(start: MemoryExchange, routingKeys: readonly string[], headers: FieldTable | undefined): AnyQueue[] {
    const pass = ++this.routingPass;
    const queues: AnyQueue[] = [];
    const pending = this.pending;
    const matched = this.matched;
    pending.length = 0;
    pending.push(start);
    start.routingPass = pass;
    let topicKeys: string[][] | undefined;
    for (let i = 0; i < pending.length; i++) {
      const exchange = pending[i]!;
      matched.length = 0;
      if (exchange.name === '') {
        for (const key of routingKeys) {
          const queue = this.queues.get(key);
          if (queue) matched.push(queue);
        }
      } else {
        if (exchange.type === 'topic') topicKeys ??= routingKeys.map(topicWords);
        for (let k = 0; k < routingKeys.length; k++) exchange.match(routingKeys[k]!, topicKeys?.[k], headers, matched);
        if (matched.length === 0 && exchange.alternateExchange !== undefined) {
          const alternate = this.exchanges.get(exchange.alternateExchange);
          if (alternate) matched.push(alternate);
        }
      }
      for (const destination of matched) {
        if (destination.routingPass === pass) continue;
        destination.routingPass = pass;
        if (destination.kind === 'queue') queues.push(destination);
        else pending.push(destination);
      }
    }
    pending.length = 0;
    matched.length = 0;
    return queues;
  }
}

/** RabbitMQ accepts only a decimal string of a non-negative integer; anything else closes the channel. */
function parseExpiration(exchange: string, expiration: string | undefined): number | undefined {
  if (expiration === undefined) return undefined;
  if (typeof expiration !== 'string' || !/^\d+$/.test(expiration)) {
    throw new PublishError(`Publishing to exchange "${exchange}" failed (PRECONDITION_FAILED): invalid expiration ${JSON.stringify(expiration)}; it must be a decimal string of milliseconds, e.g. "60000".`);
  }
  return Number(expiration);
}

function argumentsKey(args: FieldTable | undefined): string {
  if (!args || Object.keys(args).length === 0) return '';
  return JSON.stringify(Object.keys(args).sort().map((key) => [key, args[key]]));
}
