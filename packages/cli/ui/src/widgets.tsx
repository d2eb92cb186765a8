import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

/** Loads data now and every `everyMs` (when given), keeping the last good answer beside the last error. */
export function usePolling<T>(load: () => Promise<T>, everyMs: number | undefined, deps: unknown[] = []): { data?: T; error?: string; reload: () => void; loading: boolean } {
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = () => {
      setState((s) => ({ ...s, loading: true }));
      load().then(
        (data) => { if (live) setState({ data, loading: false }); },
        (error: Error) => { if (live) setState((s) => ({ data: s.data, error: error.message, loading: false })); },
      ).finally(() => { if (live && everyMs) timer = setTimeout(run, everyMs); });
    };
    run();
    return () => { live = false; if (timer) clearTimeout(timer); };
  }, [...deps, tick]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}

export function Problem({ title, detail }: { title: string; detail?: string }) {
  return <div class="problem" role="alert"><strong>{title}</strong>{detail && <p>{detail}</p>}</div>;
}

/** A modal that asks before an action runs: nothing happens until the button is pressed. */
export function ConfirmDialog(props: { title: string; children: ComponentChildren; confirm: string; danger?: boolean; onConfirm: () => void; onCancel: () => void }) {
  const button = useRef<HTMLButtonElement>(null);
  useEffect(() => { button.current?.focus(); }, []);
  return (
    <div class="overlay" onKeyDown={(e) => { if (e.key === 'Escape') props.onCancel(); }}>
      <div class="dialog" role="dialog" aria-modal="true" aria-label={props.title}>
        <h3>{props.title}</h3>
        <div class="dialog-body">{props.children}</div>
        <div class="dialog-buttons">
          <button type="button" onClick={props.onCancel}>Cancel</button>
          <button type="button" ref={button} class={props.danger ? 'danger' : 'primary'} onClick={props.onConfirm}>{props.confirm}</button>
        </div>
      </div>
    </div>
  );
}

export function formatTime(ms: number | undefined): string {
  if (ms === undefined) return '—';
  const date = new Date(ms);
  if (Number.isNaN(date.getTime())) return '—';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

export function formatAge(ms: number | undefined, now = Date.now()): string {
  if (ms === undefined) return '';
  const seconds = Math.max(0, Math.round((now - ms) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86_400)} d ago`;
}

export function formatRate(rate: number | undefined): string {
  if (rate === undefined) return '–';
  return rate >= 10 ? `${Math.round(rate)}/s` : `${rate.toFixed(1)}/s`;
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
