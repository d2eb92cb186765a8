import { baselineOf, pairedDifference, pairedRatio, type Series } from './results';
import { median } from './stats';
import { renderTable } from './table';

/** Issue 6's targets (and issue 3's in-memory one), judged on this run's numbers. */
export interface TargetResult {
  target: string;
  measured: string;
  /** undefined when the run did not include the scenario. */
  met: boolean | undefined;
}

export function evaluateTargets(all: readonly Series[], prefetches: readonly number[]): TargetResult[] {
  const find = (scenario: string, caseStart: string, side: string) => all.find((s) => s.scenario === scenario && s.case.startsWith(caseStart) && s.side === side);
  const results: TargetResult[] = [];
  const ratioTarget = (target: string, series: Series | undefined, limit: number) => {
    const base = series && baselineOf(series, all);
    const ratio = series && base ? pairedRatio(series, base, (s) => s.perSecond) : NaN;
    results.push({ target, measured: Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : 'not run', met: Number.isFinite(ratio) ? ratio >= limit : undefined });
  };
  const cpuTarget = (target: string, series: Series | undefined, limit: number) => {
    const base = series && baselineOf(series, all);
    const delta = series && base ? pairedDifference(series, base, (s) => s.cpuPerMessage) : NaN;
    results.push({ target, measured: Number.isFinite(delta) ? `${delta >= 0 ? '+' : ''}${delta.toFixed(1)} µs` : 'not run', met: Number.isFinite(delta) ? delta <= limit : undefined });
  };
  for (const p of prefetches) {
    ratioTarget(`consume, validated small DTO, prefetch ${p}: ≥ 0.90× raw msgs/s`, find('consume', `small DTO, prefetch ${p}`, 'warren, validated (compiled)'), 0.9);
    ratioTarget(`consume, no validation, prefetch ${p}: ≥ 0.97× raw msgs/s`, find('consume', `small DTO, prefetch ${p}`, 'warren, unvalidated ({ message: Object })'), 0.97);
    cpuTarget(`client CPU, small DTO, prefetch ${p}: ≤ raw + 20 µs/msg`, find('consume', `small DTO, prefetch ${p}`, 'warren, validated (compiled)'), 20);
    cpuTarget(`client CPU, large DTO, prefetch ${p}: ≤ raw + 40 µs/msg`, find('consume', `large DTO, prefetch ${p}`, 'warren, validated (compiled)'), 40);
  }
  ratioTarget('publish with confirms (validated route): ≥ 0.95× raw', find('publish', 'small DTO', 'warren route, validated'), 0.95);
  const e2e = find('latency', 'small DTO', 'warren, validated both ends');
  const e2eP99 = e2e ? median(e2e.samples.map((s) => s.p99Ms!)) : NaN;
  results.push({ target: 'end-to-end p99 at 2,000 msg/s: ≤ 10 ms', measured: e2e ? `${e2eP99.toFixed(2)} ms` : 'not run', met: e2e ? e2eP99 <= 10 : undefined });
  const rpc = find('rpc', 'sequential', 'warren, validated both ways');
  const rpcRate = rpc ? median(rpc.samples.map((s) => s.perSecond)) : NaN;
  const rpcP99 = rpc ? median(rpc.samples.map((s) => s.p99Ms!)) : NaN;
  results.push({ target: 'sequential request/reply: ≥ 1,000 req/s', measured: rpc ? `${Math.round(rpcRate)} req/s` : 'not run', met: rpc ? rpcRate >= 1000 : undefined });
  results.push({ target: 'sequential request/reply: p99 ≤ 5 ms', measured: rpc ? `${rpcP99.toFixed(2)} ms` : 'not run', met: rpc ? rpcP99 <= 5 : undefined });
  const memory = find('memory', 'small DTO', 'warren, app.publish → validated (compiled)');
  const memoryRate = memory ? median(memory.samples.map((s) => s.perSecond)) : NaN;
  results.push({ target: 'in-memory end to end: ≥ 50,000 validated msgs/s', measured: memory ? `${Math.round(memoryRate).toLocaleString('en-US')} msgs/s` : 'not run', met: memory ? memoryRate >= 50_000 : undefined });
  return results;
}

export function targetsTable(results: readonly TargetResult[]): string {
  return renderTable(['target', 'measured', 'verdict'], results.map((r) => [r.target, r.measured, r.met === undefined ? '–' : r.met ? 'met' : 'MISSED']));
}
