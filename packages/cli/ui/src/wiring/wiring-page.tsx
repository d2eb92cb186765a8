import { useMemo } from 'preact/hooks';
import type { ConsoleConfig, LiveNumbers, WiringGraph } from '../../../src/ui/api-types';
import { getJson } from '../api';
import { formatRate, formatTime, plural, Problem, usePolling } from '../widgets';
import { GraphView } from './graph-view';
import { place } from './layout';

/** The service's wiring as a graph, with live numbers from the management API. */
export function WiringPage({ config }: { config: ConsoleConfig }) {
  const graph = usePolling(() => getJson<WiringGraph>('/api/wiring'), undefined);
  const live = usePolling(() => getJson<LiveNumbers>('/api/live'), config.refreshMs);
  const placed = useMemo(() => (graph.data ? place(graph.data) : undefined), [graph.data]);
  if (graph.error) return <Problem title="Could not load the wiring" detail={graph.error} />;
  if (!graph.data || !placed) return <p class="loading">Loading the wiring…</p>;
  const numbers = live.data?.status === 'ok' ? live.data : undefined;
  const queues = graph.data.nodes.filter((n) => n.kind === 'queue');
  return (
    <section class="wiring">
      <div class="page-head">
        <h2>Wiring</h2>
        <LiveState live={live.data} error={live.error} management={config.management} />
      </div>
      <Findings findings={graph.data.findings} />
      <GraphView placed={placed} live={numbers} />
      <h3>Queues</h3>
      <table class="numbers" data-testid="queue-table">
        <thead><tr><th>Queue</th><th>Role</th><th class="n">Messages</th><th class="n">Ready</th><th class="n">Unacked</th><th class="n">Consumers</th><th class="n">In</th><th class="n">Out</th></tr></thead>
        <tbody>
          {queues.map((q) => {
            const n = numbers?.queues[q.name ?? ''];
            return (
              <tr key={q.id} data-queue={q.name}>
                <td class="mono">{q.label}</td>
                <td>{q.role}</td>
                <td class="n" data-column="messages">{n ? n.messages : '–'}</td>
                <td class="n">{n ? n.ready : '–'}</td>
                <td class="n">{n ? n.unacked : '–'}</td>
                <td class="n" data-column="consumers">{n ? n.consumers : '–'}</td>
                <td class="n">{formatRate(n?.publishRate)}</td>
                <td class="n">{formatRate(n?.deliverRate)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}

function LiveState({ live, error, management }: { live?: LiveNumbers; error?: string; management?: string }) {
  if (error) return <div class="live-state down" data-testid="live-state" data-status="console-down">Live numbers: the console's server does not answer ({error})</div>;
  if (!live) return <div class="live-state" data-testid="live-state">Live numbers: loading…</div>;
  if (live.status === 'ok') {
    return <div class="live-state ok" data-testid="live-state" data-status="ok">Live from {management} · updated {formatTime(live.at)}</div>;
  }
  const title = { off: 'Live numbers are off', unreachable: 'Management API unreachable', unauthorized: 'Management API refused the credentials', error: 'Management API error' }[live.status];
  return (
    <div class="live-state down" data-testid="live-state" data-status={live.status} role="status">
      <strong>{title}</strong> — numbers are not shown until it answers (retrying every few seconds). <span class="reason">{live.reason}</span>
    </div>
  );
}

function Findings({ findings }: { findings: string[] }) {
  if (findings.length === 0) return <p class="findings ok" data-testid="findings">No dead routes: every publisher route reaches a consumer, and every binding is fed.</p>;
  return (
    <div class="findings dead" data-testid="findings">
      <strong>{plural(findings.length, 'dead route')} (drawn in red)</strong>
      <ul>{findings.map((f) => <li key={f}>{f}</li>)}</ul>
    </div>
  );
}
