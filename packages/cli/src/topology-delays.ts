import type { QueueSpec, QueueType, Topology } from '@warren/core';
import { delayCascadeTopology, delayHopTopology, DELAY_LEVELS, DELAY_UNROUTABLE, delayLevelName, MAX_DELAY_MS } from '@warren/core';
import type { TopologyModel } from './topology-model';

/**
 * The delay cascades of a topology model (docs/scheduling.md): what `--print` adds for an
 * administrator, what `--check` compares, and the text section of `warren topology`. The cascades'
 * 32 levels are shared by every service on a vhost, so they are shown once per queue type.
 */

/** Every queue type with a cascade: consumers' retries (at start) and route hops (on first delayed send). */
function cascadeTypes(model: TopologyModel): QueueType[] {
  return [...new Set([...model.delays.retryCascades, ...model.delays.routeHops.map((r) => r.hop.queueType)])];
}

/**
 * What the services may declare for delayed delivery beyond their consumers' own topology (which
 * already holds the retry hops): each cascade, and each route's hop. For `--print`: a service with
 * `declare: false` needs all of it before its first delayed send.
 */
export function delayTopology(model: TopologyModel): Required<Topology> {
  const all: Required<Topology> = { exchanges: [], queues: [], bindings: [], exchangeBindings: [] };
  const merge = (part: Topology) => {
    for (const e of part.exchanges ?? []) if (!all.exchanges.some((x) => x.name === e.name)) all.exchanges.push(e);
    for (const q of part.queues ?? []) if (!all.queues.some((x) => x.name === q.name)) all.queues.push(q);
    for (const b of part.bindings ?? []) if (!all.bindings.some((x) => x.exchange === b.exchange && x.queue === b.queue && x.routingKey === b.routingKey)) all.bindings.push(b);
    all.exchangeBindings.push(...(part.exchangeBindings ?? []));
  };
  for (const type of cascadeTypes(model)) merge(delayCascadeTopology(type));
  for (const { hop } of model.delays.routeHops) merge(delayHopTopology(hop));
  return all;
}

/** The cascade queues declared at start (for consumers that retry): what `--check` compares besides `model.queues`. */
export function startDelayQueues(model: TopologyModel): QueueSpec[] {
  return model.delays.retryCascades.flatMap((type) => delayCascadeTopology(type).queues.filter((q) => !model.queues.some((known) => known.name === q.name)));
}

/** The "Delayed delivery" section of `warren topology`'s text output. */
export function renderDelays(model: TopologyModel): string[] {
  const types = cascadeTypes(model);
  if (types.length === 0) return [];
  const lines = ['', `Delayed delivery (a binary cascade of TTL queues, up to ${MAX_DELAY_MS} ms; docs/scheduling.md)`];
  for (const type of types) {
    const when = model.delays.retryCascades.includes(type) ? 'declared at start' : 'declared on the first delayed send';
    lines.push(`  ${type} cascade: ${delayLevelName(type, DELAY_LEVELS - 1)} … ${delayLevelName(type, 0)} (${DELAY_LEVELS} levels, level N waits 2^N ms) → warren.delay.deliver  (${when})`);
  }
  const retryHops = model.queues.filter((q) => q.role === 'retry');
  if (retryHops.length) {
    lines.push('  Retry hops (a due retry goes straight back to its queue)');
    for (const queue of retryHops) lines.push(`    ${queue.name} → ${String(queue.arguments?.['x-dead-letter-routing-key'])}  (${queue.consumer})  [${String(queue.arguments?.['x-queue-type'])}]`);
  }
  if (model.delays.routeHops.length) {
    lines.push('  Route hops (declared on a route\'s first delayed send: route(msg, { delay }))');
    for (const { publisher, hop } of model.delays.routeHops) lines.push(`    ${hop.name} → ${hop.exchange || '(default exchange)'} / ${hop.routingKey || '(empty key)'}  (${publisher})`);
  }
  lines.push(`  Unroutable: ${DELAY_UNROUTABLE} keeps cascade messages whose routing key names no hop`);
  return lines;
}
