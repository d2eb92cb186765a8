import type { AppTopologyPlan, ConsumerPlan, DelayHop, ExchangeBindingSpec, ExchangeSpec, ExchangeType, FieldTable, PublisherPlan, QueueGroup, QueueSpec, QueueType } from '@warren/core';
import { DEFAULT_CONSUMER_SETTINGS, groupConsumers, routeHop, topicMatches, topicPattern, topicWords } from '@warren/core';

/** Why a queue exists: `retry` is a consumer's retry hop, `delay` the delay cascade's own (docs/scheduling.md). */
export type QueueRole = 'consumer' | 'retry' | 'dead-letter' | 'redelivered' | 'delay';

export interface TopologyQueue extends QueueSpec {
  role: QueueRole;
  /** The consumer (`Class.method`) it belongs to. */
  consumer: string;
  /** How the consumer reads its own queue: consumer priority, and for a stream where it starts. */
  reading?: { priority?: number; offset?: string; offsetName?: string };
}

export interface TopologyBinding {
  exchange: string;
  queue: string;
  routingKey: string;
  arguments?: FieldTable;
  /** The consumer whose declaration binds it. */
  consumer: string;
  role: 'consumer' | 'dead-letter' | 'delay';
}

/** A publisher route and the consumers it reaches among the given services. */
export interface TopologyRoute {
  /** `PublisherClass.property` */
  publisher: string;
  exchange: string;
  exchangeType: ExchangeType;
  routingKey: string;
  /** The AMQP `type` property the route sets, if any (what dispatch on a shared queue reads). */
  type?: string;
  /** For each queue the route reaches (through exchange-to-exchange bindings too), the method that takes its messages. */
  consumers: string[];
}

/** An exchange-to-exchange binding and who declares it (a publisher class, or `topology`). */
export interface TopologyExchangeBinding extends ExchangeBindingSpec {
  declaredBy: string;
}

/** How a queue several methods share hands out its messages, in the order the rules are tried. */
export interface QueueDispatch {
  queue: string;
  rules: Array<{ takes: string; consumer: string }>;
}

/**
 * A route no one consumes, or a binding no one feeds, within the services given — or two
 * declarations of one exchange that RabbitMQ would refuse to reconcile.
 */
export type TopologyFinding =
  | { kind: 'unconsumed-route'; publisher: string; exchange: string; routingKey: string }
  | { kind: 'unpublished-binding'; consumer: string; exchange: string; routingKey: string; queue: string; headers?: FieldTable }
  | { kind: 'unhandled-route'; publisher: string; exchange: string; routingKey: string; type?: string; queue: string }
  | { kind: 'exchange-conflict'; exchange: string; declarations: string[] };

/** The delay cascades (docs/scheduling.md) the services use. */
export interface TopologyDelays {
  /** Cascades declared at start, by queue type: those of consumers that retry. */
  retryCascades: QueueType[];
  /**
   * Each publisher route's hop, declared with its cascade on the route's first delayed send (of the
   * app's `queueType`; the CLI cannot see it and assumes the default, classic).
   */
  routeHops: Array<{ publisher: string; hop: DelayHop }>;
}

/** Exchanges, queues and bindings of one or more services, with the publisher routes that feed them. */
export interface TopologyModel {
  exchanges: Array<ExchangeSpec & { declaredBy: string[] }>;
  queues: TopologyQueue[];
  bindings: TopologyBinding[];
  exchangeBindings: TopologyExchangeBinding[];
  dispatch: QueueDispatch[];
  routes: TopologyRoute[];
  findings: TopologyFinding[];
  delays: TopologyDelays;
}

/** What one service contributes to the model. */
export interface ServicePlans {
  consumers: readonly ConsumerPlan[];
  publishers: readonly PublisherPlan[];
  /** Exchange-to-exchange bindings and extra exchanges (`Warren.start({ topology })`, `@Publisher({ bindings })`). */
  topology?: AppTopologyPlan;
}

/**
 * Joins the plans of several services into one topology and checks it: every publisher route should
 * reach a consumer binding (by the exchange type's rules: direct keys, topic wildcards, fanout,
 * headers; across exchange-to-exchange bindings too) and a method of that queue that takes it, and
 * every consumer binding should be fed by some publisher route.
 *
 * @example
 * ```ts
 * const model = buildTopology([loadService(['orders/dist/handlers.js']), loadService(['billing/dist/handlers.js'])]);
 * model.findings.filter((f) => f.kind === 'unconsumed-route');
 * ```
 */
export function buildTopology(services: readonly ServicePlans[]): TopologyModel {
  const exchanges = new Map<string, ExchangeSpec & { declaredBy: string[] }>();
  const conflicts = new Map<string, Set<string>>();
  const declareExchange = (spec: ExchangeSpec, by: string) => {
    if (spec.name === '') return;
    const known = exchanges.get(spec.name);
    if (!known) {
      exchanges.set(spec.name, { ...spec, declaredBy: [by] });
      return;
    }
    known.declaredBy.push(by);
    if (known.type !== spec.type || (known.durable ?? true) !== (spec.durable ?? true) || (known.autoDelete ?? false) !== (spec.autoDelete ?? false)) {
      const seen = conflicts.get(spec.name) ?? new Set([`${known.declaredBy[0]}: ${describeExchange(known)}`]);
      seen.add(`${by}: ${describeExchange(spec)}`);
      conflicts.set(spec.name, seen);
    }
  };

  const queues = new Map<string, TopologyQueue>();
  const bindings = new Map<string, TopologyBinding>();
  const consumers = services.flatMap((s) => s.consumers);
  // Per service, as each app groups its own consumers: the same conflicts fail here as at start.
  const groups = new Map<string, QueueGroup>();
  for (const service of services) for (const group of groupConsumers(service.consumers)) if (!groups.has(group.queue)) groups.set(group.queue, group);
  for (const plan of consumers) {
    for (const exchange of plan.topology.exchanges ?? []) declareExchange(exchange, plan.id);
    for (const queue of plan.topology.queues ?? []) {
      if (queues.has(queue.name)) continue;
      const role: QueueRole = queue.name === plan.queue ? 'consumer' : queue.name === plan.deadLetter.queue ? 'dead-letter' : queue.name === plan.redeliveredQueue ? 'redelivered' : queue.name === plan.retryHop?.name ? 'retry' : 'delay';
      queues.set(queue.name, { ...queue, role, consumer: groups.get(plan.queue)?.id ?? plan.id, ...(role === 'consumer' ? readingOf(plan) : {}) });
    }
    for (const binding of plan.topology.bindings ?? []) {
      const role = binding.queue === plan.queue ? 'consumer' : binding.exchange.startsWith('warren.delay.') ? 'delay' : 'dead-letter';
      const key = JSON.stringify([binding.exchange, binding.queue, binding.routingKey, binding.arguments ?? null]);
      const known = bindings.get(key);
      // Several methods of one queue may bind one key (typed methods): the binding is theirs together.
      if (known && role === 'consumer' && !known.consumer.split(', ').includes(plan.id)) known.consumer += `, ${plan.id}`;
      if (!known) bindings.set(key, { ...binding, consumer: role === 'consumer' ? plan.id : groups.get(plan.queue)?.id ?? plan.id, role });
    }
  }
  const exchangeBindings = new Map<string, TopologyExchangeBinding>();
  for (const topology of services.flatMap((s) => (s.topology ? [s.topology] : []))) {
    for (const { spec, declaredBy } of topology.exchanges) declareExchange(spec, declaredBy);
    for (const { declaredBy, declare: _declare, ...binding } of topology.bindings) {
      exchangeBindings.set(JSON.stringify([binding.source, binding.destination, binding.routingKey, binding.arguments ?? null]), { ...binding, declaredBy });
    }
  }

  const routes: TopologyRoute[] = [];
  const delays: TopologyDelays = { retryCascades: [...new Set(consumers.flatMap((c) => (c.retryHop ? [c.retryHop.queueType] : [])))], routeHops: [] };
  for (const plan of services.flatMap((s) => s.publishers)) {
    declareExchange(plan.exchange, plan.publisherClass.name);
    for (const { property, route } of plan.routes) {
      const publisher = `${plan.publisherClass.name}.${property}`;
      routes.push({ publisher, exchange: plan.exchange.name, exchangeType: plan.exchange.type, routingKey: route.routingKey, ...(route.options.type === undefined ? {} : { type: route.options.type }), consumers: [] });
      delays.routeHops.push({ publisher, hop: routeHop(plan.exchange.name, route.routingKey, DEFAULT_CONSUMER_SETTINGS.queueType) });
    }
  }

  const consumerBindings = [...bindings.values()].filter((b) => b.role === 'consumer');
  const typeOf = (exchange: string, fallback: ExchangeType = 'direct') => exchanges.get(exchange)?.type ?? fallback;
  const reached = new ExchangeReach([...exchangeBindings.values()], typeOf);
  const findings: TopologyFinding[] = [];
  for (const route of routes) {
    const through = reached.from(route.exchange, route.routingKey);
    const targets = route.exchange === ''
      ? [route.routingKey].filter((q) => groups.has(q))
      : [...new Set(consumerBindings.filter((b) => through.has(b.exchange) && bindingMatches(typeOf(b.exchange, route.exchangeType), b.routingKey, route.routingKey)).map((b) => b.queue))];
    for (const queue of targets) {
      const group = groups.get(queue);
      if (!group) continue;
      const taker = group.dispatch ? group.dispatch.select(route.type, route.routingKey)?.id : group.consumers[0]!.id;
      if (taker) route.consumers.push(taker);
      else findings.push({ kind: 'unhandled-route', publisher: route.publisher, exchange: route.exchange, routingKey: route.routingKey, ...(route.type === undefined ? {} : { type: route.type }), queue });
    }
    if (targets.length === 0) findings.push({ kind: 'unconsumed-route', publisher: route.publisher, exchange: route.exchange, routingKey: route.routingKey });
  }
  for (const binding of consumerBindings) {
    const type = typeOf(binding.exchange);
    const fed = routes.some((r) => reached.from(r.exchange, r.routingKey).has(binding.exchange) && bindingMatches(type, binding.routingKey, r.routingKey));
    if (!fed) {
      findings.push({ kind: 'unpublished-binding', consumer: binding.consumer, exchange: binding.exchange, routingKey: binding.routingKey, queue: binding.queue, ...(type === 'headers' ? { headers: binding.arguments } : {}) });
    }
  }
  for (const plan of consumers.filter((c) => c.exchange === '')) {
    if (!routes.some((r) => r.exchange === '' && r.routingKey === plan.queue)) {
      findings.push({ kind: 'unpublished-binding', consumer: plan.id, exchange: '', routingKey: plan.queue, queue: plan.queue });
    }
  }
  for (const [exchange, declarations] of conflicts) findings.push({ kind: 'exchange-conflict', exchange, declarations: [...declarations] });

  const dispatch = [...groups.values()].filter((g) => g.dispatch).map((g) => ({ queue: g.queue, rules: g.dispatch!.describe() }));
  return { exchanges: [...exchanges.values()], queues: [...queues.values()], bindings: [...bindings.values()], exchangeBindings: [...exchangeBindings.values()], dispatch, routes, findings, delays };
}

/** Which exchanges a message published to one reaches, following exchange-to-exchange bindings (cycles included, as RabbitMQ allows them). */
class ExchangeReach {
  constructor(private readonly bindings: readonly ExchangeBindingSpec[], private readonly typeOf: (exchange: string) => ExchangeType) {}

  from(exchange: string, routingKey: string): Set<string> {
    const seen = new Set([exchange]);
    const pending = [exchange];
    for (let current = pending.pop(); current !== undefined; current = pending.pop()) {
      for (const b of this.bindings) {
        if (b.source !== current || seen.has(b.destination) || !bindingMatches(this.typeOf(current), b.routingKey, routingKey)) continue;
        seen.add(b.destination);
        pending.push(b.destination);
      }
    }
    return seen;
  }
}

/**
 * Whether a message published with `routingKey` reaches a binding with `bindingKey`. Headers
 * exchanges route on message headers the code does not declare, so any binding counts as reachable.
 */
export function bindingMatches(type: ExchangeType, bindingKey: string, routingKey: string): boolean {
  switch (type) {
    case 'direct': return bindingKey === routingKey;
    case 'topic': return topicMatches(topicPattern(bindingKey), topicWords(routingKey));
    case 'fanout':
    case 'headers': return true;
  }
}

/** Consumer-side settings worth showing beside the queue: priority, a stream's start and offset name. */
function readingOf(plan: ConsumerPlan): Pick<TopologyQueue, 'reading'> {
  const start = plan.stream?.start;
  const offset = start === undefined ? undefined : start.kind === 'offset' ? String(start.offset) : start.kind === 'since' ? `${start.seconds}s back` : start.kind === 'at' ? new Date(start.at).toISOString() : start.kind;
  if (plan.priority === undefined && offset === undefined) return {};
  return { reading: { priority: plan.priority, offset, offsetName: plan.stream?.offsetName } };
}

function describeExchange(spec: ExchangeSpec): string {
  return `${spec.type}${(spec.durable ?? true) ? ', durable' : ', transient'}${spec.autoDelete ? ', auto-delete' : ''}`;
}
