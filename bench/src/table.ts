import { baselineOf, pairedDifference, pairedRatio, type Sample, type Series, type StageTiming } from './results';
import { max, median, min } from './stats';

/** Plain-text tables for the terminal (and to paste into docs/performance.md). */

/** A Markdown-compatible table; the first `left` columns are text (left-aligned), the rest numbers. */
export function renderTable(headers: readonly string[], rows: ReadonlyArray<readonly string[]>, left = 3): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => (i < left ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [line(headers), `|${widths.map((w, i) => (i < left ? `-${'-'.repeat(w)}-` : `-${'-'.repeat(w)}:`)).join('|')}|`, ...rows.map(line)].join('\n');
}

const whole = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');
const fixed = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '–');
const signed = (n: number) => (Number.isFinite(n) ? `${n >= 0 ? '+' : ''}${n.toFixed(1)}` : '–');
const pick = (series: Series, metric: (s: Sample) => number | undefined) => series.samples.map(metric).filter((v): v is number => v !== undefined);

function spread(values: readonly number[], format: (n: number) => string): string {
  return values.length > 1 ? `${format(min(values))}–${format(max(values))}` : '';
}

/** Throughput scenarios (consume, publish, in-memory): msgs/s with spread and ratio, CPU per message with its difference. */
export function throughputTable(all: readonly Series[]): string {
  const rows = all.map((series) => {
    const rates = pick(series, (s) => s.perSecond);
    const cpu = pick(series, (s) => s.cpuPerMessage);
    const broker = pick(series, (s) => s.brokerCpuPercent);
    const base = baselineOf(series, all);
    return [
      series.scenario, series.case, series.side,
      whole(median(rates)), spread(rates, whole),
      base ? `${fixed(pairedRatio(series, base, (s) => s.perSecond), 2)}×` : '',
      fixed(median(cpu)),
      base ? signed(pairedDifference(series, base, (s) => s.cpuPerMessage)) : '',
      broker.length ? `${fixed(median(broker), 0)} %` : '',
    ];
  });
  return renderTable(['scenario', 'case', 'side', 'msgs/s (median)', 'spread (min–max)', '× raw', 'client CPU µs/msg', 'Δ CPU vs raw', 'broker CPU'], rows);
}

/** Latency scenarios (end to end, request/reply): p50 / p99 medians over rounds, with the p99 spread. */
export function latencyTable(all: readonly Series[]): string {
  const rows = all.map((series) => {
    const p50 = pick(series, (s) => s.p50Ms);
    const p99 = pick(series, (s) => s.p99Ms);
    const rates = pick(series, (s) => s.perSecond);
    const cpu = pick(series, (s) => s.cpuPerMessage);
    const base = baselineOf(series, all);
    return [
      series.scenario, series.case, series.side,
      whole(median(rates)), base ? `${fixed(pairedRatio(series, base, (s) => s.perSecond), 2)}×` : '',
      fixed(median(p50), 2), fixed(median(p99), 2), spread(p99, (n) => fixed(n, 2)),
      fixed(median(cpu)), base ? signed(pairedDifference(series, base, (s) => s.cpuPerMessage)) : '',
    ];
  });
  return renderTable(['scenario', 'case', 'side', 'msgs/s', '× raw', 'p50 ms', 'p99 ms', 'p99 spread', 'client CPU µs/msg', 'Δ CPU vs raw'], rows);
}

export function pipelineTable(timings: readonly StageTiming[]): string {
  return renderTable(['stage', 'small DTO µs', 'large DTO µs', 'note'], timings.map((t) => [t.stage, fixed(t.small, 2), fixed(t.large, 2), t.note ?? '']), 1);
}
