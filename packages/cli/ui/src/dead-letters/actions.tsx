import { useState } from 'preact/hooks';
import type { ActionResult, Selection } from '../../../src/ui/api-types';
import { ApiFailure, runAction, storedToken, storeToken } from '../api';
import { ConfirmDialog, plural } from '../widgets';

/** An action the user asked for, waiting for confirmation. */
export interface PendingAction {
  action: 'replay' | 'discard';
  selection: Selection;
  /** What it applies to, in words: "the group VALIDATION_FAILED: …", "1 message". */
  what: string;
  /** How many messages of the listing it selects. */
  count: number;
}

/**
 * Replay and discard: asks first (with the count and the destination), runs, and reports how many
 * messages moved. Asks for the token when the tab has none or the server refused it.
 */
export function useActions(consumer: string, queue: string, deadLetterQueue: string, partial: boolean, after: () => void) {
  const [pending, setPending] = useState<PendingAction>();
  const [result, setResult] = useState<{ ok: boolean; text: string; failed?: ActionResult['failed'] }>();
  const [busy, setBusy] = useState(false);
  const [needToken, setNeedToken] = useState(false);

  const run = async (request: PendingAction) => {
    setPending(undefined);
    setBusy(true);
    try {
      const outcome = await runAction(consumer, request.action, request.selection);
      const verb = outcome.action === 'replay' ? `Replayed ${plural(outcome.moved, 'message')} to ${outcome.queue}` : `Discarded ${plural(outcome.moved, 'message')} from ${outcome.queue}`;
      const left = outcome.failed.length ? `; ${outcome.failed.length} could not be replayed and stay in ${deadLetterQueue}` : '';
      setResult({ ok: outcome.failed.length === 0, text: `${verb}${left}.`, failed: outcome.failed });
      after();
    } catch (error) {
      if (error instanceof ApiFailure && error.status === 401) setNeedToken(true);
      setResult({ ok: false, text: (error as Error).message });
    } finally {
      setBusy(false);
    }
  };

  const ask = (request: PendingAction) => {
    setResult(undefined);
    if (!storedToken()) { setNeedToken(true); return; }
    setPending(request);
  };

  const dialog = pending && (
    <ConfirmDialog
      title={pending.action === 'replay' ? 'Replay dead letters?' : 'Discard dead letters?'}
      confirm={pending.action === 'replay' ? `Replay ${plural(pending.count, 'message')}` : `Discard ${plural(pending.count, 'message')}`}
      danger={pending.action === 'discard'}
      onCancel={() => setPending(undefined)}
      onConfirm={() => void run(pending)}>
      <p data-testid="confirm-text">
        {pending.action === 'replay'
          ? <>Send {pending.what} ({plural(pending.count, 'message')}{partial ? ' among those read' : ''}) back to queue <code>{queue}</code>, where <code>{consumer}</code> handles it again.</>
          : <>Remove {pending.what} ({plural(pending.count, 'message')}{partial ? ' among those read' : ''}) from <code>{deadLetterQueue}</code> for good. This cannot be undone.</>}
      </p>
    </ConfirmDialog>
  );

  const tokenForm = needToken && (
    <form class="token-form" onSubmit={(e) => {
      e.preventDefault();
      const input = (e.currentTarget as HTMLFormElement).elements.namedItem('token') as HTMLInputElement;
      if (input.value.trim()) { storeToken(input.value); setNeedToken(false); setResult(undefined); }
    }}>
      <label>Actions need the token <code>warren ui</code> printed when it started: <input name="token" type="password" autocomplete="off" placeholder="token" /></label>
      <button type="submit">Use token</button>
    </form>
  );

  const report = result && (
    <div class={`result ${result.ok ? 'ok' : 'bad'}`} role="status" data-testid="action-result">
      {result.text}
      {result.failed && result.failed.length > 0 && <ul>{result.failed.map((f, i) => <li key={i}>{f.messageId ?? '(no message id)'}: {f.reason}</li>)}</ul>}
    </div>
  );
  return { ask, busy, dialog, tokenForm, report };
}
