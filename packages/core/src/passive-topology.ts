import { ConnectionError, TopologyError, WarrenError } from './errors';
import type { ConsumerPlan } from './consumer-plan';
import { delayCascadeTopology } from './delay-cascade';
import type { PublisherDefinition } from './metadata';
import type { PublisherPlan } from './publishing';
import type { ExchangeSpec, Topology, Transport } from './transport';

/**
 * `declare: false`: for users without configure permission. Warren declares nothing and checks, with
 * passive declares (which need no configure permission), that every exchange and queue it would
 * have declared exists. Everything missing is reported at once, in one `TopologyError`, instead of
 * an `ACCESS_REFUSED` on the first declaration.
 *
 * What AMQP cannot check without configure permission: an existing queue's or exchange's type and
 * arguments, and bindings (there is no passive bind). `warren topology --print` emits the exact
 * definitions to create; importing them is what makes the rest right.
 */

/** One thing the app needs that the broker does not have. */
export interface MissingTopology {
  kind: 'exchange' | 'queue';
  name: string;
  /** Who needs it: `Class.method` of a consumer, or a publisher class. */
  neededBy: string;
}

/** The predeclared exchanges: always there, never checked. */
export function predeclared(exchange: string): boolean {
  return exchange === '' || exchange.startsWith('amq.');
}

/**
 * Passively checks each topology's exchanges and queues; resolves with everything missing.
 * Errors other than "not found" (a lost connection, a refused read permission) are thrown as they are.
 */
export async function findMissingTopology(transport: Transport, needs: ReadonlyArray<{ neededBy: string; topology: Topology }>): Promise<MissingTopology[]> {
  const missing: MissingTopology[] = [];
  const seen = new Set<string>();
  for (const { neededBy, topology } of needs) {
    for (const exchange of topology.exchanges ?? []) {
      if (predeclared(exchange.name) || seen.has(`e:${exchange.name}`)) continue;
      seen.add(`e:${exchange.name}`);
      if (!(await exists(() => transport.inspectExchange(exchange.name)))) missing.push({ kind: 'exchange', name: exchange.name, neededBy });
    }
    for (const queue of topology.queues ?? []) {
      if (seen.has(`q:${queue.name}`)) continue;
      seen.add(`q:${queue.name}`);
      if (!(await exists(() => transport.inspectQueue(queue.name)))) missing.push({ kind: 'queue', name: queue.name, neededBy });
    }
  }
  return missing;
}

/** Throws one `TopologyError` listing everything missing; resolves when nothing is. */
export async function assertTopologyExists(transport: Transport, needs: ReadonlyArray<{ neededBy: string; topology: Topology }>): Promise<void> {
  if (needs.length === 0) return;
  const missing = await findMissingTopology(transport, needs);
  if (missing.length === 0) return;
  const lines = describeMissing(missing);
  throw new TopologyError(
    `declare: false, and ${missing.length} exchange(s) / queue(s) the app needs do not exist on the broker:\n${lines.join('\n')}\n` +
    'An administrator must create them (with their bindings): `warren topology <service entry> --print` emits them as definitions for `rabbitmqctl import_definitions`.',
  );
}

/** One line per missing exchange or queue; the levels of a delay cascade in one line per cascade. */
function describeMissing(missing: readonly MissingTopology[]): string[] {
  const levels = new Map<string, { count: number; neededBy: string }>();
  const lines: string[] = [];
  for (const m of missing) {
    const level = /^warren\.delay\.(classic|quorum)\.\d\d$/.exec(m.name);
    if (!level) {
      lines.push(`  - ${m.kind} "${m.name}" (needed by ${m.neededBy})`);
      continue;
    }
    const cascade = levels.get(level[1]!) ?? { count: 0, neededBy: m.neededBy };
    cascade.count++;
    levels.set(level[1]!, cascade);
  }
  for (const [type, { count, neededBy }] of levels) {
    lines.push(`  - ${count} of the 64 exchanges and queues of the ${type} delay cascade, "warren.delay.${type}.00" … "warren.delay.${type}.31" (needed by ${neededBy})`);
  }
  return lines;
}

/** A publisher's exchange, and whether Warren declares it or only checks it. */
export interface PublisherExchange {
  neededBy: string;
  exchange: ExchangeSpec;
  declare: boolean;
}

/** A publisher's own `declare` option, else the app's. */
export function publisherExchange(definition: PublisherDefinition, plan: PublisherPlan, appDeclares: boolean): PublisherExchange {
  return { neededBy: definition.publisherClass.name, exchange: plan.exchange, declare: definition.options.declare ?? appDeclares };
}

/**
 * At start: checks passively everything consumers and publishers with `declare: false` need (one
 * error for all that is missing), then declares the other publishers' exchanges. Consumers declare
 * their own topology when they subscribe.
 */
export async function prepareTopology(transport: Transport, consumers: readonly ConsumerPlan[], publishers: readonly PublisherExchange[]): Promise<void> {
  await assertTopologyExists(transport, [
    ...consumers.filter((c) => !c.declare).map((c) => ({ neededBy: c.id, topology: c.topology })),
    // The delay cascade its retries wait in (shared: listed once, for the first consumer that needs it).
    ...consumers.filter((c) => !c.declare && c.retryHop).map((c) => ({ neededBy: `${c.id} (retries)`, topology: delayCascadeTopology(c.retryHop!.queueType) })),
    ...publishers.filter((p) => !p.declare).map((p) => ({ neededBy: p.neededBy, topology: { exchanges: [p.exchange] } })),
  ]);
  const declared = publishers.filter((p) => p.declare && p.exchange.name !== '').map((p) => p.exchange);
  if (declared.length) await transport.declare({ exchanges: declared });
}

/** For a publisher bound after start: declares its exchange, or checks that it exists. */
export function readyPublisherExchange(transport: Transport, publisher: PublisherExchange): Promise<void> {
  if (publisher.exchange.name === '') return Promise.resolve();
  if (publisher.declare) return transport.declare({ exchanges: [publisher.exchange] });
  return assertTopologyExists(transport, [{ neededBy: publisher.neededBy, topology: { exchanges: [publisher.exchange] } }]);
}

async function exists(inspect: () => Promise<unknown>): Promise<boolean> {
  try {
    await inspect();
    return true;
  } catch (error) {
    if (error instanceof ConnectionError || !(error instanceof WarrenError)) throw error;
    if (error instanceof TopologyError && error.message.includes('(NOT_FOUND)')) return false;
    throw error;
  }
}
