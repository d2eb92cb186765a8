import type { ConsumerPlan, ExchangeSpec, ExchangeType, FieldTable, PublisherPlan, QueueSpec } from '@warren/core';
import { topicMatches, topicPattern, topicWords } from '@warren/core';

/** Why a queue exists. */
export type QueueRole = 'consumer' | 'retry' | 'dead-letter' | 'redelivered';

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
  role: 'consumer' | 'dead-letter';
}

/** A publisher route and the consumers it reaches among the given services. */
export interface TopologyRoute {
  /** `PublisherClass.property` */
  publisher: string;
  exchange: string;
  exchangeType: ExchangeType;
  routingKey: string;
  consumers: string[];
}

/**
 * A route no one consumes, or a binding no one feeds, within the services given — or two
 * declarations of one exchange that RabbitMQ would refuse to reconcile.
 */
export type TopologyFinding =
  | { kind: 'unconsumed-route'; publisher: string; exchange: string; routingKey: string }
  | { kind: 'unpublished-binding'; consumer: string; exchange: string; routingKey: string; queue: string; headers?: FieldTable }
  | { kind: 'exchange-conflict'; exchange: string; declarations: string[] };

/** Exchanges, queues and bindings of one or more services, with the publisher routes that feed them. */
export interface TopologyModel {
  exchanges: Array<ExchangeSpec & { declaredBy: string[] }>;
  queues: TopologyQueue[];
  bindings: TopologyBinding[];
  routes: TopologyRoute[];
  findings: TopologyFinding[];
}

/** What one service contributes to the model. */
export interface ServicePlans {
  consumers: readonly ConsumerPlan[];
  publishers: readonly PublisherPlan[];
}

/**
 * Joins the plans of several services into one topology and checks it: every publisher route should
 * reach a consumer binding (by the exchange type's rules: direct keys, topic wildcards, fanout,
 * headers), and every consumer binding should be fed by some publisher route.
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
  const bindings: TopologyBinding[] = [];
  const consumers = services.flatMap((s) => s.consumers);
  for (const plan of consumers) {
    for (const exchange of plan.topology.exchanges ?? []) declareExchange(exchange, plan.id);
    for (const queue of plan.topology.queues ?? []) {
      if (queues.has(queue.name)) continue;
      const role: QueueRole = queue.name === plan.queue ? 'consumer' : queue.name === plan.deadLetter.queue ? 'dead-letter' : queue.name === plan.redeliveredQueue ? 'redelivered' : 'retry';
      queues.set(queue.name, { ...queue, role, consumer: plan.id, ...(role === 'consumer' ? readingOf(plan) : {}) });
    }
    for (const binding of plan.topology.bindings ?? []) {
      bindings.push({ ...binding, consumer: plan.id, role: binding.queue === plan.queue ? 'consumer' : 'dead-letter' });
    }
  }

  const routes: TopologyRoute[] = [];
  for (const plan of services.flatMap((s) => s.publishers)) {
    declareExchange(plan.exchange, plan.publisherClass.name);
    for (const { property, route } of plan.routes) {
      routes.push({ publisher: `${plan.publisherClass.name}.${property}`, exchange: plan.exchange.name, exchangeType: plan.exchange.type, routingKey: route.routingKey, consumers: [] });
    }
  }

  const consumerBindings = bindings.filter((b) => b.role === 'consumer');
  const findings: TopologyFinding[] = [];
  for (const route of routes) {
    const type = exchanges.get(route.exchange)?.type ?? route.exchangeType;
    route.consumers = route.exchange === ''
      ? consumers.filter((c) => c.queue === route.routingKey).map((c) => c.id)
      : [...new Set(consumerBindings.filter((b) => b.exchange === route.exchange && bindingMatches(type, b.routingKey, route.routingKey)).map((b) => b.consumer))];
    if (route.consumers.length === 0) findings.push({ kind: 'unconsumed-route', publisher: route.publisher, exchange: route.exchange, routingKey: route.routingKey });
  }
  for (const binding of consumerBindings) {
    const type = exchanges.get(binding.exchange)?.type ?? 'direct';
    const fed = routes.some((r) => r.exchange === binding.exchange && bindingMatches(type, binding.routingKey, r.routingKey));
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

  return { exchanges: [...exchanges.values()], queues: [...queues.values()], bindings, routes, findings };
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
