import type { ConsoleConfig, DeadLetterOverview } from '../../../src/ui/api-types';
import { getJson } from '../api';
import { Problem, usePolling } from '../widgets';

/** Every consumer's dead-letter queue and how full it is. */
export function DeadLettersPage({ config }: { config: ConsoleConfig }) {
  const overview = usePolling(() => getJson<DeadLetterOverview>('/api/dead-letters'), config.refreshMs);
  if (!overview.data) return overview.error ? <Problem title="Could not read the dead-letter queues" detail={overview.error} /> : <p class="loading">Reading the dead-letter queues…</p>;
  return (
    <section class="dead-letters">
      <div class="page-head"><h2>Dead letters</h2><span class="hint">One dead-letter queue per consumer. Open one to see its messages grouped by cause.</span></div>
      {overview.data.problem && <Problem title="Dead letters are not available" detail={overview.data.problem} />}
      {overview.error && <Problem title="Could not refresh" detail={overview.error} />}
      <table class="numbers" data-testid="dead-letter-queues">
        <thead><tr><th>Consumer</th><th>Queue</th><th>Dead-letter queue</th><th class="n">Messages</th></tr></thead>
        <tbody>
          {overview.data.queues.map((q) => (
            <tr key={q.consumer} data-consumer={q.consumer} class={q.count ? 'has-letters' : ''}>
              <td>{q.deadLetterQueue && q.count !== undefined ? <a href={`#/dead-letters/${encodeURIComponent(q.consumer)}`}>{q.consumer}</a> : q.consumer}</td>
              <td class="mono">{q.queue}</td>
              <td class="mono">{q.deadLetterQueue ?? '—'}</td>
              <td class="n" data-column="count">{q.count ?? <span class="muted" title={q.problem}>{q.problem ?? '—'}</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
