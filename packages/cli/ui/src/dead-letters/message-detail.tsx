import type { ComponentChildren } from 'preact';
import type { DeadLetterDetail } from '../../../src/ui/api-types';
import { formatAge, formatTime } from '../widgets';

/** One dead letter in full. Every value is the message's own data, shown as text. */
export function MessageDetail({ detail, actions }: { detail: DeadLetterDetail; actions?: ComponentChildren }) {
  return (
    <article class="detail" data-testid="message-detail">
      <header>
        <h3><span class="code">{detail.errorCode ?? '(no error code)'}</span> {detail.errorMessage ?? ''}</h3>
        {actions}
      </header>
      {detail.issues.length > 0 && (
        <div class="issues">
          <h4>Validation issues</h4>
          <ul data-testid="issues">{detail.issues.map((issue, i) => <li key={i}>{issue}</li>)}</ul>
        </div>
      )}
      <dl class="facts-list">
        <dt>Message id</dt><dd class="mono">{detail.messageId ?? '(none)'}</dd>
        <dt>Original route</dt><dd class="mono" data-testid="route">{detail.route ?? '(unknown)'}</dd>
        <dt>Failed in queue</dt><dd class="mono">{detail.failedQueue ?? '(unknown)'}</dd>
        <dt>Consumer</dt><dd class="mono">{detail.consumerHeader ?? '(unknown)'}</dd>
        <dt>Attempts</dt><dd data-testid="attempts">{detail.attempts ?? '—'}</dd>
        <dt>Failed</dt><dd>{formatTime(detail.failedAt)} <span class="muted">{formatAge(detail.failedAt)}</span>{detail.firstFailedAt !== undefined && detail.firstFailedAt !== detail.failedAt && <span class="muted"> (first failure {formatTime(detail.firstFailedAt)})</span>}</dd>
        {detail.replayed !== undefined && <><dt>Replayed before</dt><dd>{detail.replayed} time(s)</dd></>}
        <dt>Content type</dt><dd class="mono">{detail.contentType ?? '(none)'}</dd>
      </dl>
      <h4>Body <span class="muted">({detail.body.kind === 'hex' ? 'bytes, hex' : detail.body.kind}, {detail.body.bytes} bytes{detail.body.truncated ? ', first 64 KiB shown' : ''})</span></h4>
      <pre class={`body ${detail.body.kind}`} data-testid="body">{detail.body.text}</pre>
      <h4>Headers</h4>
      <table class="headers" data-testid="headers">
        <tbody>{detail.headers.map(([name, value], i) => <tr key={i}><th class="mono">{name}</th><td class="mono">{value}</td></tr>)}</tbody>
      </table>
    </article>
  );
}
