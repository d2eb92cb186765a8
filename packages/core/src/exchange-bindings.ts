import { resolveName } from './consumer-plan';
import { ConfigurationError } from './errors';
import type { ExchangeBindingOptions, ExchangeDeclaration, PublisherBinding, TopologyOptions } from './options';
import type { ExchangeBindingSpec, ExchangeSpec } from './transport';

/**
 * Exchange-to-exchange bindings an app declares: from `@Publisher({ bindings })` (the publisher's
 * exchange is the source) and from `WarrenOptions.topology`, with the extra exchanges it lists.
 * This file plans them (names resolved, checked); app-topology.ts declares them at start.
 */

/** One binding with its names resolved, who asked for it and whether Warren declares it. */
export interface ExchangeBindingPlan extends ExchangeBindingSpec {
  /** A publisher class, or `topology` for `WarrenOptions.topology`. */
  readonly declaredBy: string;
  readonly declare: boolean;
}

/** The exchanges and exchange-to-exchange bindings an app declares besides its consumers' queues. */
export interface AppTopologyPlan {
  readonly exchanges: ReadonlyArray<{ readonly spec: ExchangeSpec; readonly declaredBy: string; readonly declare: boolean }>;
  readonly bindings: readonly ExchangeBindingPlan[];
}

/** A publisher as this file needs it: its bindings (already resolved) and whether it declares. */
export interface PublisherBindings {
  readonly neededBy: string;
  readonly bindings: readonly ExchangeBindingSpec[];
  readonly declare: boolean;
}

const EXCHANGE_TYPES = new Set(['direct', 'topic', 'fanout', 'headers']);
const MAX_KEY_BYTES = 255;

/** A binding's names resolved and checked; `source` is given for a publisher's own exchange. */
export function resolveExchangeBinding(binding: PublisherBinding & Partial<Pick<ExchangeBindingOptions, 'source'>>, env: Record<string, string | undefined>, what: string, source?: string): ExchangeBindingSpec {
  if (binding === null || typeof binding !== 'object') throw new ConfigurationError(`${what}: a binding must be an object like { source, destination, routingKey }.`);
  const from = source ?? resolveName(binding.source ?? '', env, `${what} source`);
  const to = resolveName(binding.destination ?? '', env, `${what} destination`);
  const routingKey = binding.routingKey === undefined ? '' : resolveName(binding.routingKey, env, `${what} routing key`);
  if (from === '' || to === '') throw new ConfigurationError(`${what}: the default exchange "" cannot be bound to or from (RabbitMQ refuses it); name both exchanges.`);
  if (from === to) throw new ConfigurationError(`${what}: binds exchange "${from}" to itself.`);
  if (Buffer.byteLength(routingKey) > MAX_KEY_BYTES) throw new ConfigurationError(`${what}: the routing key is longer than ${MAX_KEY_BYTES} bytes.`);
  const args = binding.arguments;
  if (args !== undefined && (args === null || typeof args !== 'object' || Array.isArray(args))) throw new ConfigurationError(`${what}: arguments must be a table (an object).`);
  return args === undefined ? { source: from, destination: to, routingKey } : { source: from, destination: to, routingKey, arguments: args };
}

/**
 * Resolves `WarrenOptions.topology` and the publishers' bindings into one plan (each binding once).
 *
 * @example
 * ```ts
 * const plan = planAppTopology({ bindings: [{ source: 'orders', destination: 'audit', routingKey: '#' }] }, [], true, process.env);
 * plan.bindings[0]; // { source: 'orders', destination: 'audit', routingKey: '#', declaredBy: 'topology', declare: true }
 * ```
 */
export function planAppTopology(options: TopologyOptions | undefined, publishers: readonly PublisherBindings[], declare: boolean, env: Record<string, string | undefined>): AppTopologyPlan {
  if (options !== undefined && (options === null || typeof options !== 'object')) throw new ConfigurationError('topology must be an object: { exchanges?: [...], bindings?: [...] }.');
  const list = <T>(value: T[] | undefined, what: string): T[] => {
    if (value === undefined) return [];
    if (!Array.isArray(value)) throw new ConfigurationError(`topology.${what} must be a list.`);
    return value;
  };
  const exchanges = list<ExchangeDeclaration>(options?.exchanges, 'exchanges').map((e, i) => ({ spec: exchangeSpec(e, env, `topology.exchanges[${i}]`), declaredBy: 'topology', declare }));
  const bindings = new Map<string, ExchangeBindingPlan>();
  const add = (spec: ExchangeBindingSpec, declaredBy: string, declares: boolean) => {
    const key = JSON.stringify([spec.source, spec.destination, spec.routingKey, spec.arguments ?? null]);
    if (!bindings.has(key)) bindings.set(key, { ...spec, declaredBy, declare: declares });
  };
  for (const publisher of publishers) for (const spec of publisher.bindings) add(spec, publisher.neededBy, publisher.declare);
  list<ExchangeBindingOptions>(options?.bindings, 'bindings').forEach((b, i) => add(resolveExchangeBinding(b, env, `topology.bindings[${i}]`), 'topology', declare));
  return { exchanges, bindings: [...bindings.values()] };
}

function exchangeSpec(declaration: ExchangeDeclaration, env: Record<string, string | undefined>, what: string): ExchangeSpec {
  if (declaration === null || typeof declaration !== 'object') throw new ConfigurationError(`${what}: an exchange must be an object like { name, type }.`);
  const name = resolveName(declaration.name ?? '', env, `${what} name`);
  if (name === '' || name.startsWith('amq.')) throw new ConfigurationError(`${what}: "${name}" is predeclared by RabbitMQ; name an exchange of your own.`);
  const type: unknown = declaration.type;
  if (!(typeof type === 'string' && (EXCHANGE_TYPES.has(type) || type.startsWith('x-')))) {
    throw new ConfigurationError(`${what}: exchange "${name}" has the unknown type ${JSON.stringify(type)}. Use 'direct', 'topic', 'fanout' or 'headers' (or a plugin's 'x-…' type).`);
  }
  return { name, type: declaration.type, durable: declaration.durable ?? true, autoDelete: declaration.autoDelete ?? false, internal: declaration.internal ?? false, arguments: declaration.arguments };
}
