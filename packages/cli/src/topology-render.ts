import { renderDelays } from './topology-delays';
import type { TopologyFinding, TopologyModel, TopologyQueue } from './topology-model';

/** The output formats of `warren topology`. */
export type TopologyFormat = 'text' | 'mermaid' | 'dot';

export function renderTopology(model: TopologyModel, format: TopologyFormat): string {
  switch (format) {
    case 'text': return renderText(model);
    case 'mermaid': return renderMermaid(model);
    case 'dot': return renderDot(model);
  }
}

/** One line per finding, for people. */
export function describeFinding(finding: TopologyFinding): string {
  switch (finding.kind) {
    case 'unconsumed-route':
      return `${finding.publisher} sends to ${routeName(finding.exchange, finding.routingKey)}, but no consumer in the given services binds it`;
    case 'unpublished-binding':
      return `${finding.consumer} binds ${finding.headers ? `${finding.exchange || '(default)'} with headers ${JSON.stringify(finding.headers)}` : routeName(finding.exchange, finding.routingKey)} (queue ${finding.queue}), but no publisher in the given services sends to it`;
    case 'unhandled-route':
      return `${finding.publisher} sends ${finding.type === undefined ? 'messages without a type' : `type ${JSON.stringify(finding.type)}`} to ${routeName(finding.exchange, finding.routingKey)}, which reaches queue ${finding.queue}, but no method of that queue takes them (NO_HANDLER)`;
    case 'exchange-conflict':
      return `exchange ${finding.exchange} is declared differently (RabbitMQ refuses the second declaration): ${finding.declarations.join('; ')}`;
  }
}

function routeName(exchange: string, routingKey: string): string {
  return `${exchange || '(default exchange)'} / ${routingKey === '' ? '(empty key)' : routingKey}`;
}

function queueArgs(queue: TopologyQueue): string {
  const args = queue.arguments ?? {};
  const parts: string[] = [];
  if (args['x-queue-type']) parts.push(String(args['x-queue-type']));
  if (args['x-message-ttl'] !== undefined) parts.push(`ttl ${String(args['x-message-ttl'])} ms`);
  if (args['x-dead-letter-exchange'] !== undefined) {
    parts.push(`dead letters → ${String(args['x-dead-letter-exchange']) || '(default exchange)'} / ${String(args['x-dead-letter-routing-key'] ?? '(same key)')}`);
  }
  parts.push(...streamAndConsumerParts(queue));
  return parts.length ? `  [${parts.join(', ')}]` : '';
}

/** Retention of a stream, single active consumer, and how the consumer reads (priority, a stream's start). */
function streamAndConsumerParts(queue: TopologyQueue): string[] {
  const args = queue.arguments ?? {};
  const parts: string[] = [];
  if (args['x-single-active-consumer'] === true) parts.push('single active consumer');
  if (args['x-max-age'] !== undefined) parts.push(`max age ${String(args['x-max-age'])}`);
  if (args['x-max-length-bytes'] !== undefined) parts.push(`max ${String(args['x-max-length-bytes'])} bytes`);
  if (args['x-stream-max-segment-size-bytes'] !== undefined) parts.push(`segments of ${String(args['x-stream-max-segment-size-bytes'])} bytes`);
  const reading = queue.reading;
  if (reading?.offset !== undefined) parts.push(`reads from ${reading.offset}, offset stored as ${reading.offsetName}`);
  if (reading?.priority !== undefined) parts.push(`consumer priority ${reading.priority}`);
  return parts;
}

function renderText(model: TopologyModel): string {
  const lines: string[] = ['Exchanges → bindings → queues'];
  const queues = new Map(model.queues.map((q) => [q.name, q]));
  // The delay cascade's exchanges have their own section below.
  for (const exchange of [...model.exchanges].filter((e) => !e.name.startsWith('warren.delay.')).sort((a, b) => a.name.localeCompare(b.name))) {
    lines.push(`  ${exchange.name} (${exchange.type}${(exchange.durable ?? true) ? '' : ', transient'})`);
    const bindings = model.bindings.filter((b) => b.exchange === exchange.name);
    if (bindings.length === 0) lines.push(model.exchangeBindings.some((b) => b.source === exchange.name) ? '    (no queue bound: see the exchange-to-exchange bindings)' : '    (no queue bound)');
    for (const binding of bindings) {
      const key = exchange.type === 'headers' ? `headers ${JSON.stringify(binding.arguments ?? {})}` : exchange.type === 'fanout' ? '(all)' : binding.routingKey;
      const queue = queues.get(binding.queue);
      const owner = binding.role === 'dead-letter' ? `dead letters of ${binding.consumer}` : binding.consumer;
      lines.push(`    ${key} → ${binding.queue}  (${owner})${queue ? queueArgs(queue) : ''}`);
    }
  }
  if (model.exchangeBindings.length) {
    const types = new Map(model.exchanges.map((e) => [e.name, e.type]));
    lines.push('', 'Exchange-to-exchange bindings (what the source routes for the key also goes to the destination)');
    for (const binding of model.exchangeBindings) {
      const type = types.get(binding.source);
      const key = type === 'headers' ? `headers ${JSON.stringify(binding.arguments ?? {})}` : type === 'fanout' ? '(all)' : binding.routingKey === '' ? '(empty key)' : binding.routingKey;
      const declared = (name: string) => (types.has(name) ? name : `${name} (declared elsewhere)`);
      lines.push(`  ${declared(binding.source)} / ${key} ⇒ ${declared(binding.destination)}  (${binding.declaredBy})`);
    }
  }
  if (model.dispatch.length) {
    lines.push('', 'Queues shared by several methods (each message goes to the first rule that takes it; the rest are dead-lettered with NO_HANDLER)');
    for (const { queue, rules } of model.dispatch) {
      lines.push(`  ${queue}`);
      for (const rule of rules) lines.push(`    ${rule.takes} → ${rule.consumer}`);
    }
  }
  lines.push(...renderDelays(model));
  const redelivered = model.queues.filter((q) => q.role === 'redelivered');
  if (redelivered.length) {
    lines.push('', 'Redelivered queues (messages that came back unsettled, handled one at a time; see the redelivery guard)');
    for (const queue of redelivered) lines.push(`  ${queue.name}  (${queue.consumer})`);
  }
  const defaultQueues = model.queues.filter((q) => q.role === 'consumer' && !model.bindings.some((b) => b.queue === q.name));
  if (defaultQueues.length) {
    lines.push('', 'Queues fed through the default exchange');
    for (const queue of defaultQueues) lines.push(`  ${queue.name}  (${queue.consumer})${queueArgs(queue)}`);
  }
  if (model.routes.length) {
    lines.push('', 'Publisher routes');
    for (const route of model.routes) {
      const typed = route.type === undefined ? '' : ` [type ${JSON.stringify(route.type)}]`;
      lines.push(`  ${route.publisher} → ${routeName(route.exchange, route.routingKey)}${typed} → ${route.consumers.length ? route.consumers.join(', ') : '✗ no consumer'}`);
    }
  }
  lines.push('', model.findings.length ? `Findings (${model.findings.length})` : 'Findings: none — every route is consumed and every binding is fed.');
  for (const finding of model.findings) lines.push(`  ✗ ${describeFinding(finding)}`);
  return `${lines.join('\n')}\n`;
}

/** Exchanges at an end of an exchange-to-exchange binding that none of the given services declares. */
function undeclaredEnds(model: TopologyModel): string[] {
  const known = new Set(model.exchanges.map((e) => e.name));
  return [...new Set(model.exchangeBindings.flatMap((b) => [b.source, b.destination]))].filter((name) => !known.has(name));
}

/** A binding's label in a graph: the delay cascade's 33-word keys say only when they route. */
function bindingLabel(binding: TopologyModel['bindings'][number]): string {
  if (binding.role === 'delay') return binding.exchange === 'warren.delay.deliver' ? 'when due' : '(all)';
  return binding.routingKey || '(all)';
}

/** Stable, syntax-safe node ids for graph formats. */
class NodeIds {
  private readonly ids = new Map<string, string>();
  id(kind: 'exchange' | 'queue' | 'publisher', name: string): string {
    const key = `${kind}:${name}`;
    let id = this.ids.get(key);
    if (!id) this.ids.set(key, (id = `${kind[0]}${this.ids.size}`));
    return id;
  }
}

function mermaidLabel(text: string): string {
  return `"${text.replace(/"/g, '#quot;')}"`;
}

function renderMermaid(model: TopologyModel): string {
  const ids = new NodeIds();
  const lines = ['flowchart LR'];
  for (const exchange of model.exchanges) lines.push(`  ${ids.id('exchange', exchange.name)}{{${mermaidLabel(`${exchange.name} (${exchange.type})`)}}}`);
  for (const name of undeclaredEnds(model)) lines.push(`  ${ids.id('exchange', name)}{{${mermaidLabel(`${name} (declared elsewhere)`)}}}`);
  for (const queue of model.queues) lines.push(`  ${ids.id('queue', queue.name)}[(${mermaidLabel(queue.name)})]`);
  const publishers = [...new Set(model.routes.map((r) => r.publisher.split('.')[0]!))];
  for (const publisher of publishers) lines.push(`  ${ids.id('publisher', publisher)}([${mermaidLabel(publisher)}])`);
  for (const route of model.routes) {
    const from = ids.id('publisher', route.publisher.split('.')[0]!);
    const target = route.exchange === '' ? ids.id('queue', route.routingKey) : ids.id('exchange', route.exchange);
    lines.push(`  ${from} -- ${mermaidLabel(route.routingKey || '(empty key)')} --> ${target}`);
  }
  for (const binding of model.exchangeBindings) {
    lines.push(`  ${ids.id('exchange', binding.source)} == ${mermaidLabel(binding.routingKey || '(all)')} ==> ${ids.id('exchange', binding.destination)}`);
  }
  for (const binding of model.bindings) {
    const arrow = binding.role === 'dead-letter' ? '-.' : '--';
    const head = binding.role === 'dead-letter' ? '.->' : '-->';
    lines.push(`  ${ids.id('exchange', binding.exchange)} ${arrow} ${mermaidLabel(bindingLabel(binding))} ${head} ${ids.id('queue', binding.queue)}`);
  }
  for (const queue of model.queues) {
    const dlx = queue.arguments?.['x-dead-letter-exchange'];
    if (queue.role === 'retry') {
      lines.push(`  ${ids.id('queue', queue.name)} -. ${mermaidLabel('retry, when due')} .-> ${ids.id('queue', String(queue.arguments?.['x-dead-letter-routing-key']))}`);
    } else if (typeof dlx === 'string' && dlx !== '') {
      lines.push(`  ${ids.id('queue', queue.name)} -. ${mermaidLabel('dead letters')} .-> ${ids.id('exchange', dlx)}`);
    }
  }
  for (const finding of model.findings) lines.push(`  %% dead route: ${describeFinding(finding)}`);
  return `${lines.join('\n')}\n`;
}

function dotString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function renderDot(model: TopologyModel): string {
  const ids = new NodeIds();
  const lines = ['digraph warren {', '  rankdir=LR;', '  node [fontname="Helvetica"]; edge [fontname="Helvetica", fontsize=10];'];
  for (const exchange of model.exchanges) lines.push(`  ${ids.id('exchange', exchange.name)} [shape=hexagon, label=${dotString(`${exchange.name}\n(${exchange.type})`)}];`);
  for (const name of undeclaredEnds(model)) lines.push(`  ${ids.id('exchange', name)} [shape=hexagon, style=dashed, label=${dotString(`${name}\n(declared elsewhere)`)}];`);
  for (const queue of model.queues) {
    const style = queue.role === 'consumer' ? '' : ', style=dashed';
    lines.push(`  ${ids.id('queue', queue.name)} [shape=cylinder${style}, label=${dotString(queue.name)}];`);
  }
  const publishers = [...new Set(model.routes.map((r) => r.publisher.split('.')[0]!))];
  for (const publisher of publishers) lines.push(`  ${ids.id('publisher', publisher)} [shape=box, style=rounded, label=${dotString(publisher)}];`);
  for (const route of model.routes) {
    const target = route.exchange === '' ? ids.id('queue', route.routingKey) : ids.id('exchange', route.exchange);
    const color = route.consumers.length ? '' : ', color=red, fontcolor=red';
    lines.push(`  ${ids.id('publisher', route.publisher.split('.')[0]!)} -> ${target} [label=${dotString(route.routingKey || '(empty key)')}${color}];`);
  }
  for (const binding of model.exchangeBindings) {
    lines.push(`  ${ids.id('exchange', binding.source)} -> ${ids.id('exchange', binding.destination)} [label=${dotString(binding.routingKey || '(all)')}, style=bold];`);
  }
  for (const binding of model.bindings) {
    const style = binding.role === 'dead-letter' ? ', style=dashed' : '';
    lines.push(`  ${ids.id('exchange', binding.exchange)} -> ${ids.id('queue', binding.queue)} [label=${dotString(bindingLabel(binding))}${style}];`);
  }
  for (const queue of model.queues) {
    const dlx = queue.arguments?.['x-dead-letter-exchange'];
    if (queue.role === 'retry') {
      lines.push(`  ${ids.id('queue', queue.name)} -> ${ids.id('queue', String(queue.arguments?.['x-dead-letter-routing-key']))} [label=${dotString('retry, when due')}, style=dotted];`);
    } else if (typeof dlx === 'string' && dlx !== '') {
      lines.push(`  ${ids.id('queue', queue.name)} -> ${ids.id('exchange', dlx)} [label="dead letters", style=dotted];`);
    }
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
