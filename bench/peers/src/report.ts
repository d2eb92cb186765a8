import { pairedRatio, type Sample, type Series } from '../../dist/src/results';
import { max, median, min } from '../../dist/src/stats';
import { renderTable } from '../../dist/src/table';
import { REFERENCE, SIDE_LABELS, type SideName } from './protocol';
import type { PeerSample } from './runner';

/** The peers tables: one per case, every side against Warren (validated), and issue 16's goals. */

const whole = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');
const fixed = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '–');
const values = (series: Series, metric: (s: PeerSample) => number | undefined) => (series.samples as PeerSample[]).map(metric).filter((v): v is number => v !== undefined && Number.isFinite(v));
const mid = (series: Series, metric: (s: PeerSample) => number | undefined) => median(values(series, metric));

/** A table per case of a scenario: msgs/s, its ratio to Warren, client CPU per message and its ratio, broker CPU, load. */
export function caseTable(all: readonly Series[], scenario: string, caseName: string): string {
  const rows = all.filter((s) => s.scenario === scenario && s.case === caseName);
  const reference = rows.find((s) => s.side === REFERENCE);
  const latency = scenario === 'rpc';
  const table = rows.map((series) => {
    const rates = values(series, (s) => s.perSecond);
    const ratio = (metric: (s: Sample) => number | undefined) => (reference && series !== reference ? `${fixed(pairedRatio(series, reference, metric), 2)}×` : '');
    return [
      SIDE_LABELS[series.side as SideName] ?? series.side,
      whole(median(rates)),
      rates.length > 1 ? `${whole(min(rates))}–${whole(max(rates))}` : '',
      ratio((s) => s.perSecond),
      fixed(mid(series, (s) => s.cpuPerMessage)),
      ratio((s) => s.cpuPerMessage),
      ...(latency ? [fixed(mid(series, (s) => s.p50Ms), 2), fixed(mid(series, (s) => s.p99Ms), 2)] : []),
      values(series, (s) => s.brokerCpuPercent).length ? `${fixed(mid(series, (s) => s.brokerCpuPercent), 0)} %` : '',
      fixed(mid(series, (s) => s.loadAverage), 1),
    ];
  });
  const headers = ['side', latency ? 'req/s' : 'msgs/s', 'spread', '× Warren', 'client CPU µs/msg', 'CPU × Warren', ...(latency ? ['p50 ms', 'p99 ms'] : []), 'broker CPU', 'load avg'];
  return renderTable(headers, table, 1);
}

export interface GoalResult {
  goal: string;
  measured: string;
  /** undefined when the run lacks the sides or the case. */
  met: boolean | undefined;
}

/** Issue 16's goals, each judged on this run's paired rounds (Warren, validated, against golevelup without validation). */
export function evaluateGoals(all: readonly Series[], prefetches: readonly number[]): GoalResult[] {
  const find = (scenario: string, caseName: string, side: SideName) => all.find((s) => s.scenario === scenario && s.case === caseName && s.side === side);
  const results: GoalResult[] = [];
  const compare = (goal: string, scenario: string, caseName: string, metric: (s: Sample) => number | undefined, passes: (ratio: number) => boolean) => {
    const ours = find(scenario, caseName, 'warren');
    const theirs = find(scenario, caseName, 'golevelup');
    const ratio = ours && theirs ? pairedRatio(ours, theirs, metric) : NaN;
    results.push({ goal, measured: Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : 'not run', met: Number.isFinite(ratio) ? passes(ratio) : undefined });
  };
  for (const p of prefetches) {
    compare(`consume, prefetch ${p}: Warren validated client CPU/msg ≤ 1.0× golevelup unvalidated`, 'consume', `prefetch ${p}`, (s) => s.cpuPerMessage, (r) => r <= 1);
  }
  compare('publish with confirms: Warren validated client CPU/msg ≤ 1.0× golevelup', 'publish', PUBLISH_CASE, (s) => s.cpuPerMessage, (r) => r <= 1);
  compare('request/reply, sequential: Warren validated req/s ≥ 1.0× golevelup', 'rpc', 'sequential', (s) => s.perSecond, (r) => r >= 1);
  compare('request/reply, sequential: Warren p99 ≤ 1.0× golevelup\'s', 'rpc', 'sequential', (s) => s.p99Ms, (r) => r <= 1);
  return results;
}

export const PUBLISH_CASE = 'confirms';

export function goalsTable(results: readonly GoalResult[]): string {
  return renderTable(['goal (issue 16)', 'measured', 'verdict'], results.map((r) => [r.goal, r.measured, r.met === undefined ? '–' : r.met ? 'met' : 'MISSED']), 1);
}
