import type { ConsumerPlan } from './consumer-plan';
import { DispatchTable } from './dispatch-table';
import { ConfigurationError, QueueSettingsConflictError } from './errors';
import type { Topology } from './transport';

/**
 * The `@Consumer` methods of one queue. Usually one; several when methods share a queue to take
 * several message types from it (see dispatch-table.ts). A queue is declared and consumed once, so
 * the settings of the queue itself must agree across its methods; the rest (payload class,
 * validation, retry policy, timeout, scope, reply) stays each method's own.
 */
export interface QueueGroup {
  readonly queue: string;
  /** For logs and `x-warren-consumer` when no method takes a delivery: the single method's id, or the class name(s). */
  readonly id: string;
  /** In declaration order; the first one's queue settings are the group's (they all agree). */
  readonly consumers: readonly ConsumerPlan[];
  /** Every method's topology, merged: one binding per routing key, each queue and exchange once. */
  readonly topology: Topology;
  /** Set when deliveries must be dispatched: several methods, or one that filters on `type`. */
  readonly dispatch?: DispatchTable<ConsumerPlan>;
}

/** What must be equal across the methods of one queue, by the option that sets it. */
const QUEUE_SETTINGS: ReadonlyArray<readonly [option: string, read: (plan: ConsumerPlan) => unknown]> = [
  ['exchange', (p) => p.exchange],
  ['exchangeType', (p) => p.exchangeType],
  ['exchange options', (p) => {
    const spec = p.topology.exchanges?.find((e) => e.name === p.exchange);
    return spec && { durable: spec.durable, autoDelete: spec.autoDelete, arguments: spec.arguments };
  }],
  ['queueType', (p) => p.queueType],
  ['durable', (p) => ownQueue(p)?.durable ?? true],
  ['exclusive', (p) => ownQueue(p)?.exclusive ?? false],
  ['autoDelete', (p) => ownQueue(p)?.autoDelete ?? false],
  ['queueArguments', (p) => p.definition.options.queueArguments ?? {}],
  ['deadLetter', (p) => p.deadLetter],
  ['prefetch', (p) => p.prefetch],
  ['concurrency', (p) => p.concurrency],
  ['redeliveryLimit', (p) => p.redeliveryLimit],
  // One subscription serves them all, with one x-priority.
  ['priority', (p) => p.priority],
  ['declare', (p) => p.declare],
];

/**
 * Groups consumer plans by queue, in the order they come. Refuses, at start: methods of one queue
 * that disagree on a queue setting (`QueueSettingsConflictError`), a batch consumer sharing its
 * queue, and methods that could claim the same delivery (`DispatchConflictError`).
 *
 * @example
 * ```ts
 * const groups = groupConsumers(app.consumers);
 * groups.filter((g) => g.dispatch).map((g) => g.dispatch!.describe());
 * ```
 */
export function groupConsumers(plans: readonly ConsumerPlan[]): QueueGroup[] {
  const byQueue = new Map<string, ConsumerPlan[]>();
  for (const plan of plans) {
    const list = byQueue.get(plan.queue);
    if (list) list.push(plan);
    else byQueue.set(plan.queue, [plan]);
  }
  return [...byQueue.values()].map((consumers) => {
    const [lead] = consumers as [ConsumerPlan, ...ConsumerPlan[]];
    for (const other of consumers.slice(1)) assertAgree(lead, other);
    const batch = consumers.length > 1 ? consumers.find((c) => c.batch) : undefined;
    if (batch) throw new ConfigurationError(`${batch.id}: a batch consumer needs its queue to itself, and "${batch.queue}" is shared with ${consumers.filter((c) => c !== batch).map((c) => c.id).join(', ')}. Give it its own { queue }.`);
    const classes = [...new Set(consumers.map((c) => c.definition.handlerClass.name))];
    return {
      queue: lead.queue,
      id: consumers.length === 1 ? lead.id : classes.join('+'),
      consumers,
      topology: mergeTopologies(consumers.map((c) => c.topology)),
      dispatch: DispatchTable.needed(consumers) ? DispatchTable.build(consumers) : undefined,
    };
  });
}

function assertAgree(a: ConsumerPlan, b: ConsumerPlan): void {
  const differing: string[] = [];
  const details: string[] = [];
  for (const [option, read] of QUEUE_SETTINGS) {
    const [x, y] = [canonical(read(a)), canonical(read(b))];
    if (x === y) continue;
    differing.push(option);
    details.push(`${option}: ${x} vs ${y}`);
  }
  // Whatever else shapes the queue's declaration (arguments derived from other options).
  if (differing.length === 0) {
    const [x, y] = [canonical(ownQueue(a)), canonical(ownQueue(b))];
    if (x !== y) {
      differing.push('queue declaration');
      details.push(`${x} vs ${y}`);
    }
  }
  if (differing.length) throw new QueueSettingsConflictError(a.queue, [a.id, b.id], differing, details.join('; '));
}

function ownQueue(plan: ConsumerPlan) {
  return plan.topology.queues?.find((q) => q.name === plan.queue);
}

/** JSON with object keys sorted and undefined values left out: equal settings give equal text. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(v).sort()) sorted[key] = (v as Record<string, unknown>)[key];
    return sorted;
  }) ?? 'undefined';
}

/** The union of several topologies, in order, each exchange, queue and binding once (the first declaration wins). */
export function mergeTopologies(topologies: readonly Topology[]): Topology {
  const exchanges = new Map<string, NonNullable<Topology['exchanges']>[number]>();
  const queues = new Map<string, NonNullable<Topology['queues']>[number]>();
  const bindings = new Map<string, NonNullable<Topology['bindings']>[number]>();
  const exchangeBindings = new Map<string, NonNullable<Topology['exchangeBindings']>[number]>();
  for (const t of topologies) {
    for (const e of t.exchanges ?? []) if (!exchanges.has(e.name)) exchanges.set(e.name, e);
    for (const q of t.queues ?? []) if (!queues.has(q.name)) queues.set(q.name, q);
    for (const b of t.bindings ?? []) bindings.set(canonical([b.exchange, b.queue, b.routingKey, b.arguments ?? null]), b);
    for (const b of t.exchangeBindings ?? []) exchangeBindings.set(canonical([b.source, b.destination, b.routingKey, b.arguments ?? null]), b);
  }
  return { exchanges: [...exchanges.values()], queues: [...queues.values()], bindings: [...bindings.values()], exchangeBindings: [...exchangeBindings.values()] };
}
