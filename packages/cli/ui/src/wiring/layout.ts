import { graphlib, layout } from '@dagrejs/dagre';
import type { GraphEdge, GraphNode, WiringGraph } from '../../../src/ui/api-types';

export interface PlacedNode extends GraphNode { x: number; y: number; width: number; height: number }
export interface PlacedEdge extends GraphEdge { points: Array<{ x: number; y: number }>; labelAt?: { x: number; y: number } }
export interface Placed { nodes: PlacedNode[]; edges: PlacedEdge[]; width: number; height: number }

const FONT = '600 13px system-ui, sans-serif';
const STATS_FONT = '11px ui-monospace, "DejaVu Sans Mono", monospace';
/** The widest live-numbers line a queue or exchange usually shows. */
const STATS_SAMPLE = { queue: '0000 msgs · 00 consumers · 00.0/s', exchange: 'in 00.0/s · out 00.0/s' };
const SMALL_FONT = '11px system-ui, sans-serif';
/** Node heights: a title, a kind line, and for queues and exchanges a line of live numbers. */
export const NODE_HEIGHT: Record<GraphNode['kind'], number> = { publisher: 44, consumer: 44, exchange: 60, queue: 60 };

let context: CanvasRenderingContext2D | null | undefined;
function textWidth(text: string, font: string): number {
  context ??= document.createElement('canvas').getContext('2d');
  if (!context) return text.length * 7.5;
  context.font = font;
  return context.measureText(text).width;
}

/** Lays the graph out left to right (publishers → exchanges → queues → consumers) with dagre. */
export function place(graph: WiringGraph): Placed {
  const g = new graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: 'LR', nodesep: 22, ranksep: 80, edgesep: 12, marginx: 16, marginy: 16 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const node of graph.nodes) {
    const stats = node.kind === 'queue' || node.kind === 'exchange' ? textWidth(STATS_SAMPLE[node.kind], STATS_FONT) : 0;
    const width = Math.max(textWidth(node.label, FONT), textWidth(`${node.kind} · ${node.detail ?? ''}`, SMALL_FONT), stats, 90) + 30;
    g.setNode(node.id, { width, height: NODE_HEIGHT[node.kind] });
  }
  for (const edge of graph.edges) {
    const label = edge.label ?? '';
    g.setEdge(edge.from, edge.to, { width: label ? textWidth(label, SMALL_FONT) + 8 : 0, height: label ? 16 : 0, labelpos: 'c', minlen: 1 }, edge.id);
  }
  layout(g);
  const nodes = graph.nodes.map((node) => {
    const placed = g.node(node.id) as { x: number; y: number; width: number; height: number };
    return { ...node, x: placed.x, y: placed.y, width: placed.width, height: placed.height };
  });
  const edges = graph.edges.map((edge) => {
    const placed = g.edge(edge.from, edge.to, edge.id) as { points?: Array<{ x: number; y: number }>; x?: number; y?: number };
    return { ...edge, points: placed.points ?? [], labelAt: edge.label && placed.x !== undefined && placed.y !== undefined ? { x: placed.x, y: placed.y } : undefined };
  });
  const size = g.graph() as { width?: number; height?: number };
  return { nodes, edges, width: size.width ?? 0, height: size.height ?? 0 };
}
