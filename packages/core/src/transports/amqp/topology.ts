import type { Channel, Connection } from 'rabbitmq-client';
import type { ExchangeSpec, QueueSpec, Topology } from '../../transport';

/** Declares exchanges, queues, exchange bindings, then queue bindings, in that order. */
export async function declareTopology(target: Connection | Channel, topology: Topology): Promise<void> {
  for (const e of topology.exchanges ?? []) await target.exchangeDeclare(exchangeDeclareParams(e));
  for (const q of topology.queues ?? []) await target.queueDeclare(queueDeclareParams(q));
  for (const b of topology.exchangeBindings ?? []) {
    await target.exchangeBind({ source: b.source, destination: b.destination, routingKey: b.routingKey, arguments: b.arguments });
  }
  for (const b of topology.bindings ?? []) {
    await target.queueBind({ exchange: b.exchange, queue: b.queue, routingKey: b.routingKey, arguments: b.arguments });
  }
}

/**
 * What a consumer declares on its own channel before every (re)attach: the exchanges, its own queue
 * (or a passive check when the topology does not declare it) and the queue's bindings, so a deleted
 * queue comes back with its bindings.
 */
export async function declareConsumerTopology(channel: Channel, queue: string, topology: Topology): Promise<void> {
  for (const e of topology.exchanges ?? []) await channel.exchangeDeclare(exchangeDeclareParams(e));
  const own = topology.queues?.find((q) => q.name === queue);
  await channel.queueDeclare(own ? queueDeclareParams(own) : { queue, passive: true });
  for (const b of topology.bindings ?? []) {
    if (b.queue === queue) await channel.queueBind({ exchange: b.exchange, queue: b.queue, routingKey: b.routingKey, arguments: b.arguments });
  }
}

/** The topology without one queue and its bindings (an exclusive queue is declared by its consumer's connection only). */
export function withoutQueue(topology: Topology, queue: string): Topology {
  return { ...topology, queues: topology.queues?.filter((q) => q.name !== queue), bindings: topology.bindings?.filter((b) => b.queue !== queue) };
}

function exchangeDeclareParams(e: ExchangeSpec) {
  return { exchange: e.name, type: e.type, durable: e.durable ?? true, autoDelete: e.autoDelete ?? false, internal: e.internal ?? false, arguments: e.arguments };
}

function queueDeclareParams(q: QueueSpec) {
  return { queue: q.name, durable: q.durable ?? true, exclusive: q.exclusive ?? false, autoDelete: q.autoDelete ?? false, arguments: q.arguments };
}
