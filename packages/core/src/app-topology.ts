import type { ConsumerPlan } from './consumer-plan';
import type { AppTopologyPlan } from './exchange-bindings';
import { assertTopologyExists, predeclared } from './passive-topology';
import type { ExchangeSpec, Topology, Transport } from './transport';

/**
 * Declaring the app-level topology (exchange-to-exchange bindings and `WarrenOptions.topology`'s
 * exchanges) at start, once the publishers' exchanges are: one declaration that also declares every
 * exchange at either end the app knows. With `declare: false` the exchanges are only checked
 * (AMQP has no passive bind: `warren topology --print` lists the bindings to create).
 */

/**
 * At start, after the publishers' exchanges: checks passively what is not declared (the exchanges
 * at both ends of each binding included), then declares the rest in one declaration: the exchanges
 * of `topology`, the exchanges at either end of a binding that the app knows (`known`: its
 * declaring consumers' and publishers'), then the bindings.
 */
export async function declareAppTopology(transport: Transport, plan: AppTopologyPlan, known: readonly ExchangeSpec[]): Promise<void> {
  const passive: Array<{ neededBy: string; topology: Topology }> = [];
  for (const e of plan.exchanges) if (!e.declare) passive.push({ neededBy: e.declaredBy, topology: { exchanges: [e.spec] } });
  for (const b of plan.bindings) {
    if (b.declare) continue;
    // The type is not checked passively (AMQP cannot tell it); only whether each end exists.
    const ends = [b.source, b.destination].map((name) => ({ name, type: 'direct' as const }));
    passive.push({ neededBy: `${b.declaredBy} (binding ${b.source} → ${b.destination})`, topology: { exchanges: ends } });
  }
  await assertTopologyExists(transport, passive);

  const exchanges = new Map<string, ExchangeSpec>();
  for (const e of plan.exchanges) if (e.declare) exchanges.set(e.spec.name, e.spec);
  const declared = plan.bindings.filter((b) => b.declare);
  const specs = new Map(known.map((e) => [e.name, e]));
  for (const b of declared) {
    for (const end of [b.source, b.destination]) {
      const spec = specs.get(end);
      if (spec && !predeclared(end) && !exchanges.has(end)) exchanges.set(end, spec);
    }
  }
  if (exchanges.size === 0 && declared.length === 0) return;
  await transport.declare({
    exchanges: [...exchanges.values()],
    exchangeBindings: declared.map(({ source, destination, routingKey, arguments: args }) => (args === undefined ? { source, destination, routingKey } : { source, destination, routingKey, arguments: args })),
  });
}

/** The exchanges the app itself declares (its declaring consumers' and publishers'): either end of a binding may be one. */
export function knownExchanges(consumers: readonly ConsumerPlan[], publishers: ReadonlyArray<{ exchange: ExchangeSpec; declare: boolean }>): ExchangeSpec[] {
  return [
    ...consumers.filter((c) => c.declare).flatMap((c) => c.topology.exchanges ?? []),
    ...publishers.filter((p) => p.declare).map((p) => p.exchange),
  ];
}
