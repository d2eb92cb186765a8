import type { ConsumerPlan } from '@warren/core';
import type { TopologyModel } from '../topology-model';
import { describeFinding } from '../topology-render';
import type { GraphEdge, GraphNode, WiringGraph } from './api-types';

/**
 * The topology `warren topology` prints, as a graph for the console: publisher classes → exchanges
 * (one edge per route) → queues (one edge per binding) → consumers, plus the paths a failing message
 * takes (queue → dead-letter exchange, retry queue → consumer queue). Dead routes are marked on the
 * edges and nodes they involve. Layout is the page's job.
 *
 * @example
 * ```ts
 * const graph = wiringGraph(buildTopology([service]), service.consumers);
 * graph.nodes.filter((n) => n.kind === 'consumer').map((n) => n.label); // ['Billing.charge']
 * ```
 */
export function wiringGraph(model: TopologyModel, consumers: readonly ConsumerPlan[]): WiringGraph {
  const nodes = new Map<string, GraphNode>();
  const edges: GraphEdge[] = [];
  const node = (value: GraphNode) => nodes.get(value.id) ?? (nodes.set(value.id, value), value);
  const edge = (value: Omit<GraphEdge, 'id'>) => edges.push({ ...value, id: `e${edges.length}` });
  const exchangeId = (name: string) => `exchange:${name}`;
  const queueId = (name: string) => `queue:${name}`;

  for (const exchange of model.exchanges) {
    node({ id: exchangeId(exchange.name), kind: 'exchange', label: exchange.name, detail: exchange.type, name: exchange.name });
  }
  for (const queue of model.queues) {
    node({ id: queueId(queue.name), kind: 'queue', label: queue.name, detail: queue.role === 'consumer' ? undefined : queue.role, role: queue.role, name: queue.name });
  }

  for (const route of model.routes) {
    const [publisherClass] = route.publisher.split('.');
    const from = node({ id: `publisher:${publisherClass}`, kind: 'publisher', label: publisherClass! });
    const dead = route.consumers.length === 0;
    // The default exchange delivers straight to the queue its key names.
    const to = route.exchange === ''
      ? node({ id: queueId(route.routingKey), kind: 'queue', label: route.routingKey, name: route.routingKey, role: 'consumer' })
      : node({ id: exchangeId(route.exchange), kind: 'exchange', label: route.exchange, detail: route.exchangeType, name: route.exchange });
    if (dead) from.dead = true;
    edge({ from: from.id, to: to.id, kind: 'route', label: `${route.publisher.slice(publisherClass!.length + 1)}: ${route.routingKey || '(empty key)'}`, dead });
  }

  const unfed = new Set(model.findings.flatMap((f) => (f.kind === 'unpublished-binding' ? [`${f.exchange}\u0000${f.routingKey}\u0000${f.queue}`] : [])));
  for (const binding of model.bindings) {
    const type = model.exchanges.find((e) => e.name === binding.exchange)?.type;
    const label = type === 'fanout' ? '(all)' : type === 'headers' ? `headers ${JSON.stringify(binding.arguments ?? {})}` : binding.routingKey;
    const dead = binding.role === 'consumer' && unfed.has(`${binding.exchange}\u0000${binding.routingKey}\u0000${binding.queue}`);
    edge({ from: exchangeId(binding.exchange), to: queueId(binding.queue), kind: binding.role === 'dead-letter' ? 'dead-letter' : 'binding', label, dead });
  }

  for (const plan of consumers) {
    const consumer = node({ id: `consumer:${plan.id}`, kind: 'consumer', label: plan.id, detail: plan.payloadType?.name });
    edge({ from: queueId(plan.queue), to: consumer.id, kind: 'consume' });
    if (plan.redeliveredQueue) edge({ from: queueId(plan.redeliveredQueue), to: consumer.id, kind: 'consume', label: 'one at a time' });
    if (plan.exchange === '' && model.findings.some((f) => f.kind === 'unpublished-binding' && f.consumer === plan.id)) {
      consumer.dead = true;
    }
    const dlx = plan.deadLetter.exchange;
    if (nodes.has(exchangeId(dlx))) edge({ from: queueId(plan.queue), to: exchangeId(dlx), kind: 'dead-letter', label: 'dead letters' });
    // Retries wait in the delay cascade, then come back through the consumer's retry hop.
    if (plan.retryHop && nodes.has(queueId(plan.retryHop.name))) edge({ from: queueId(plan.retryHop.name), to: queueId(plan.queue), kind: 'retry', label: 'retries, when due' });
  }
  for (const finding of model.findings) {
    if (finding.kind === 'unpublished-binding') {
      const queue = nodes.get(queueId(finding.queue));
      if (queue) queue.dead = true;
    }
  }
  return { nodes: [...nodes.values()], edges, findings: model.findings.map(describeFinding) };
}
