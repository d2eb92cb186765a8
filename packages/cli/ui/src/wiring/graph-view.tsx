import type { LiveNumbers } from '../../../src/ui/api-types';
import { formatRate, plural } from '../widgets';
import type { Placed, PlacedEdge, PlacedNode } from './layout';

type Numbers = Extract<LiveNumbers, { status: 'ok' }>;

/** The laid-out graph as SVG. Every label is a text node: names come from code, but are still only text. */
export function GraphView({ placed, live }: { placed: Placed; live?: Numbers }) {
  return (
    <div class="graph-frame">
      <svg class="graph" data-testid="graph" width="100%" style={{ maxWidth: `${placed.width}px` }} viewBox={`0 0 ${placed.width} ${placed.height}`} role="img" aria-label="Publishers, exchanges, queues and consumers">
        <defs>
          {['normal', 'dead', 'failure'].map((kind) => (
            <marker key={kind} id={`arrow-${kind}`} viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
              <path d="M 0 0 L 10 5 L 0 10 z" class={`arrow ${kind}`} />
            </marker>
          ))}
        </defs>
        {placed.edges.map((edge) => <Edge key={edge.id} edge={edge} />)}
        {placed.nodes.map((node) => <Node key={node.id} node={node} live={live} />)}
      </svg>
    </div>
  );
}

function Edge({ edge }: { edge: PlacedEdge }) {
  if (edge.points.length === 0) return null;
  const d = edge.points.map((p, i) => `${i === 0 ? 'M' : 'L'} ${p.x.toFixed(1)} ${p.y.toFixed(1)}`).join(' ');
  const style = edge.dead ? 'dead' : edge.kind === 'dead-letter' || edge.kind === 'retry' ? 'failure' : 'normal';
  return (
    <g class={`edge ${edge.kind} ${edge.dead ? 'dead' : ''}`} data-edge={edge.kind} data-dead={edge.dead ? 'true' : undefined}>
      <path d={d} marker-end={`url(#arrow-${style})`} />
      {edge.labelAt && <text x={edge.labelAt.x} y={edge.labelAt.y + 4} text-anchor="middle" class="edge-label">{edge.label}</text>}
    </g>
  );
}

function Node({ node, live }: { node: PlacedNode; live?: Numbers }) {
  const left = node.x - node.width / 2;
  const top = node.y - node.height / 2;
  const stats = statsLine(node, live);
  return (
    <g class={`node ${node.kind} ${node.role ?? ''} ${node.dead ? 'dead' : ''}`} data-kind={node.kind} data-name={node.name ?? node.label} data-dead={node.dead ? 'true' : undefined}>
      <title>{`${node.kind}: ${node.label}`}</title>
      <rect x={left} y={top} width={node.width} height={node.height} rx={node.kind === 'exchange' ? 2 : node.kind === 'queue' ? 6 : 14} />
      <text x={left + 12} y={top + 18} class="node-label">{node.label}</text>
      <text x={left + 12} y={top + 34} class="node-kind">{node.detail ? `${node.kind} · ${node.detail}` : node.kind}</text>
      {stats !== undefined && <text x={left + 12} y={top + 51} class={`node-stats ${stats.alert ? 'alert' : ''}`} data-stats={node.name}>{stats.text}</text>}
    </g>
  );
}

function statsLine(node: PlacedNode, live?: Numbers): { text: string; alert?: boolean } | undefined {
  if (node.kind !== 'queue' && node.kind !== 'exchange') return undefined;
  if (!live) return { text: '—' };
  if (node.kind === 'exchange') {
    const n = live.exchanges[node.name ?? ''];
    return { text: n ? `in ${formatRate(n.publishInRate)} · out ${formatRate(n.publishOutRate)}` : 'not on the broker' };
  }
  const n = live.queues[node.name ?? ''];
  if (!n) return { text: 'not on the broker', alert: node.role === 'consumer' };
  const alert = (node.role === 'dead-letter' && n.messages > 0) || (node.role === 'consumer' && n.consumers === 0);
  return { text: `${plural(n.messages, 'msg')} · ${plural(n.consumers, 'consumer')} · ${formatRate(n.deliverRate)}`, alert };
}
