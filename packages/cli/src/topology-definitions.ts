import { delayTopology } from './topology-delays';
import type { TopologyModel } from './topology-model';

/** The part of a RabbitMQ definitions file `rabbitmqctl import_definitions` needs to create a topology. */
export interface RabbitDefinitions {
  exchanges: Array<{ name: string; vhost: string; type: string; durable: boolean; auto_delete: boolean; internal: boolean; arguments: Record<string, unknown> }>;
  queues: Array<{ name: string; vhost: string; durable: boolean; auto_delete: boolean; arguments: Record<string, unknown> }>;
  bindings: Array<{ source: string; vhost: string; destination: string; destination_type: 'queue' | 'exchange'; routing_key: string; arguments: Record<string, unknown> }>;
}

/**
 * What an administrator must create for services that run with `declare: false` (users without
 * configure permission): every exchange, queue (retry hops, dead-letter and redelivered queues
 * included) and binding (exchange-to-exchange ones too), and the delay cascades with their exchange-to-exchange bindings and every
 * route's hop (docs/scheduling.md), as a RabbitMQ definitions fragment for `rabbitmqctl import_definitions`
 * (or the management UI's import). The predeclared exchanges (`""`, `amq.*`) and exclusive queues,
 * which only their own connection can create, are left out.
 *
 * @example
 * ```ts
 * const definitions = topologyDefinitions(buildTopology([loadService(['dist/src/handlers.js'])]), '/');
 * ```
 */
export function topologyDefinitions(model: TopologyModel, vhost: string): RabbitDefinitions {
  const exclusive = new Set(model.queues.filter((q) => q.exclusive).map((q) => q.name));
  const delays = delayTopology(model);
  const exchanges = [...model.exchanges, ...delays.exchanges.filter((e) => !model.exchanges.some((known) => known.name === e.name))];
  const queues = [...model.queues, ...delays.queues.filter((q) => !model.queues.some((known) => known.name === q.name))];
  const bindings = [...model.bindings, ...delays.bindings.filter((b) => !model.bindings.some((known) => known.exchange === b.exchange && known.queue === b.queue && known.routingKey === b.routingKey))];
  return {
    exchanges: exchanges
      .filter((e) => e.name !== '' && !e.name.startsWith('amq.'))
      .map((e) => ({ name: e.name, vhost, type: e.type, durable: e.durable ?? true, auto_delete: e.autoDelete ?? false, internal: e.internal ?? false, arguments: defined(e.arguments) })),
    queues: queues
      .filter((q) => !q.exclusive)
      .map((q) => ({ name: q.name, vhost, durable: q.durable ?? true, auto_delete: q.autoDelete ?? false, arguments: defined(q.arguments) })),
    bindings: [
      ...bindings
        .filter((b) => b.exchange !== '' && !exclusive.has(b.queue))
        .map((b) => ({ source: b.exchange, vhost, destination: b.queue, destination_type: 'queue' as const, routing_key: b.routingKey, arguments: defined(b.arguments) })),
      ...delays.exchangeBindings.map((b) => ({ source: b.source, vhost, destination: b.destination, destination_type: 'exchange' as const, routing_key: b.routingKey, arguments: defined(b.arguments) })),
      ...model.exchangeBindings.map((b) => ({ source: b.source, vhost, destination: b.destination, destination_type: 'exchange' as const, routing_key: b.routingKey, arguments: defined(b.arguments) })),
    ],
  };
}

/** Arguments without undefined values (they would not survive JSON, and RabbitMQ compares what it stores). */
function defined(table: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(table ?? {})) if (value !== undefined) out[key] = value;
  return out;
}
