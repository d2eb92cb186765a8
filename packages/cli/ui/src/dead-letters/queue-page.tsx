import { useMemo, useState } from 'preact/hooks';
import type { ConsoleConfig, DeadLetterDetail, DeadLetterGroup, DeadLetterListing, DeadLetterOverview, DeadLetterRow } from '../../../src/ui/api-types';
import { matchesText } from '../../../src/ui/search';
import { getJson } from '../api';
import { formatAge, formatTime, plural, Problem, usePolling } from '../widgets';
import { useActions, type PendingAction } from './actions';
import { MessageDetail } from './message-detail';

const consumerPath = (consumer: string) => `/api/dead-letters/${encodeURIComponent(consumer)}`;
const messageHash = (consumer: string, id: string) => `#/dead-letters/${encodeURIComponent(consumer)}/${encodeURIComponent(id)}`;

/** One consumer's dead letters: grouped by cause, newest first, searchable, with replay and discard. */
export function DeadLetterQueuePage({ config, consumer, messageId }: { config: ConsoleConfig; consumer: string; messageId?: string }) {
  const listing = usePolling(() => getJson<DeadLetterListing>(consumerPath(consumer)), undefined, [consumer]);
  // Only the count is polled: a listing holds the messages while it reads them.
  const overview = usePolling(() => getJson<DeadLetterOverview>('/api/dead-letters'), config.refreshMs);
  const [filter, setFilter] = useState('');
  const data = listing.data;
  const actions = useActions(consumer, data?.queue ?? '', data?.deadLetterQueue ?? '', data ? data.read < data.total : false, () => {
    listing.reload();
    if (messageId) location.hash = `#/dead-letters/${encodeURIComponent(consumer)}`;
  });
  const shown = useMemo(() => data?.messages.filter((m) => matchesText(m, filter)) ?? [], [data, filter]);
  const groups = useMemo(() => regroup(data?.groups ?? [], shown), [data, shown]);

  if (!data) return listing.error ? <Problem title={`Could not read the dead letters of ${consumer}`} detail={listing.error} /> : <p class="loading">Reading {consumer}'s dead letters…</p>;
  const now = overview.data?.queues.find((q) => q.consumer === consumer)?.count;
  const ask = (request: PendingAction) => actions.ask(request);
  const canAct = config.actionsAllowed && !actions.busy;
  const selectionOfShown: PendingAction = filter.trim()
    ? { action: 'replay', selection: { kind: 'filter', text: filter }, what: `the messages matching "${filter.trim()}"`, count: shown.length }
    : { action: 'replay', selection: { kind: 'all' }, what: 'every message', count: shown.length };

  return (
    <section class="dead-letter-queue">
      <div class="page-head">
        <h2><a href="#/dead-letters">Dead letters</a> › <span class="mono">{consumer}</span></h2>
        <span class="hint mono">{data.deadLetterQueue} → replays go to {data.queue}</span>
      </div>
      <div class="toolbar">
        <span data-testid="counts">{plural(data.total, 'message')} in the queue{data.read < data.total ? ` (the newest view covers the first ${data.read} read)` : ''}</span>
        {now !== undefined && now !== data.total && <button type="button" class="notice" onClick={listing.reload}>{now} now — refresh</button>}
        <button type="button" onClick={listing.reload} disabled={listing.loading}>Refresh</button>
        <input type="search" placeholder="Search code, message, id, route" value={filter} onInput={(e) => setFilter((e.currentTarget as HTMLInputElement).value)} data-testid="search" />
        {config.actionsAllowed && shown.length > 0 && (
          <span class="bulk" data-testid="bulk-actions">
            <button type="button" disabled={!canAct} onClick={() => ask(selectionOfShown)}>Replay {shown.length} shown</button>
            <button type="button" class="danger" disabled={!canAct} onClick={() => ask({ ...selectionOfShown, action: 'discard' })}>Discard {shown.length} shown</button>
          </span>
        )}
      </div>
      {!config.actionsAllowed && <p class="read-only-note" data-testid="read-only-note">Read-only console: replay and discard are offered when warren ui runs with --allow-actions.</p>}
      {actions.tokenForm}
      {actions.report}
      {listing.error && <Problem title="Could not refresh" detail={listing.error} />}
      {data.total === 0 && <p class="empty" data-testid="empty">No dead letters. Nothing failed, or everything was replayed.</p>}
      <div class="groups" data-testid="groups">
        {groups.map(({ group, rows }) => (
          <div class="group" key={group.key} data-group={group.key}>
            <div class="group-head">
              <span class="group-key">{group.key}</span>
              <span class="count" data-testid="group-count">× {rows.length}</span>
              <span class="muted">newest {formatAge(group.newest) || '(time unknown)'}</span>
              {config.actionsAllowed && (
                <span class="group-actions">
                  <button type="button" disabled={!canAct} onClick={() => ask({ action: 'replay', selection: { kind: 'group', key: group.key }, what: 'this group', count: group.count })}>Replay group</button>
                  <button type="button" class="danger" disabled={!canAct} onClick={() => ask({ action: 'discard', selection: { kind: 'group', key: group.key }, what: 'this group', count: group.count })}>Discard group</button>
                </span>
              )}
            </div>
            <table class="messages">
              <tbody>
                {rows.map((row) => (
                  <tr key={row.id} class={row.id === messageId ? 'selected' : ''} data-message={row.messageId ?? ''}>
                    <td>{formatTime(row.failedAt)}</td>
                    <td class="mono"><a href={messageHash(consumer, row.id)}>{row.messageId ?? '(no message id)'}</a></td>
                    <td class="mono">{row.route ?? ''}</td>
                    <td>{row.attempts === undefined ? '' : plural(row.attempts, 'attempt')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
      </div>
      {messageId && <Detail consumer={consumer} id={messageId} actionsAllowed={canAct} ask={ask} />}
      {actions.dialog}
    </section>
  );
}

/** The groups with only the rows the search keeps, in the listing's order (newest first). */
function regroup(groups: DeadLetterGroup[], rows: DeadLetterRow[]): Array<{ group: DeadLetterGroup; rows: DeadLetterRow[] }> {
  return groups.map((group) => ({ group, rows: rows.filter((r) => r.group === group.key) })).filter((g) => g.rows.length > 0);
}

function Detail({ consumer, id, actionsAllowed, ask }: { consumer: string; id: string; actionsAllowed: boolean; ask: (request: PendingAction) => void }) {
  const detail = usePolling(() => getJson<DeadLetterDetail>(`${consumerPath(consumer)}/messages/${encodeURIComponent(id)}`), undefined, [consumer, id]);
  if (detail.error) return <Problem title="Message not shown" detail={detail.error} />;
  if (!detail.data) return <p class="loading">Loading the message…</p>;
  const buttons = actionsAllowed && (
    <span class="detail-actions">
      <button type="button" onClick={() => ask({ action: 'replay', selection: { kind: 'message', id }, what: 'this message', count: 1 })}>Replay message</button>
      <button type="button" class="danger" onClick={() => ask({ action: 'discard', selection: { kind: 'message', id }, what: 'this message', count: 1 })}>Discard message</button>
    </span>
  );
  return <MessageDetail detail={detail.data} actions={buttons} />;
}
