import { median } from './stats';

/** One measured run of one side. */
export interface Sample {
  /** Messages (or requests) per second. */
  perSecond: number;
  /** Client CPU (user + system) per message, in µs. */
  cpuPerMessage?: number;
  /** The broker's CPU over the run as % of one core, when it runs on this machine. */
  brokerCpuPercent?: number;
  p50Ms?: number;
  p99Ms?: number;
}

/** Every round of one side of one case, e.g. consume / "small DTO, prefetch 50" / "warren, validated". */
export interface Series {
  scenario: string;
  case: string;
  side: string;
  /** The raw rabbitmq-client side that the other sides of the case are compared with. */
  baseline: boolean;
  samples: Sample[];
}

/** A side of a case: how to run it once. */
export interface Side {
  side: string;
  baseline?: boolean;
  run(round: number): Promise<Sample>;
}

/** A side that measures several cases in one run (e.g. sequential and parallel requests on one server). */
export interface MultiCaseSide {
  side: string;
  baseline?: boolean;
  run(round: number): Promise<Record<string, Sample>>;
}

/**
 * Runs every side `rounds` times, alternating: even rounds in the given order, odd rounds reversed,
 * so drift on a noisy machine (broker compaction, the other core's load) hits both sides alike.
 */
export async function alternateCases(scenario: string, sides: readonly MultiCaseSide[], rounds: number, settle: () => Promise<void>): Promise<Series[]> {
  const series = new Map<string, Series>();
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? [...sides] : [...sides].reverse();
    for (const side of order) {
      for (const [caseName, sample] of Object.entries(await side.run(round))) {
        const key = `${caseName}\u0000${side.side}`;
        if (!series.has(key)) series.set(key, { scenario, case: caseName, side: side.side, baseline: side.baseline ?? false, samples: [] });
        series.get(key)!.samples.push(sample);
      }
      await settle();
    }
  }
  // Cases in first-seen order, and within a case the sides in the order given.
  const cases = [...new Set([...series.values()].map((s) => s.case))];
  return cases.flatMap((c) => sides.map((side) => series.get(`${c}\u0000${side.side}`)).filter((s): s is Series => s !== undefined));
}

/** {@link alternateCases} for sides that measure one case. */
export function alternate(scenario: string, caseName: string, sides: readonly Side[], rounds: number, settle: () => Promise<void>): Promise<Series[]> {
  return alternateCases(scenario, sides.map((s) => ({ side: s.side, baseline: s.baseline, run: async (round: number) => ({ [caseName]: await s.run(round) }) })), rounds, settle);
}

/** The baseline series of the same scenario and case, if any. */
export function baselineOf(series: Series, all: readonly Series[]): Series | undefined {
  if (series.baseline) return undefined;
  return all.find((s) => s.baseline && s.scenario === series.scenario && s.case === series.case);
}

/**
 * Warren/raw as the median of per-round ratios: rounds are paired (run back to back), which cancels
 * most of the machine's drift that a ratio of medians would keep.
 */
export function pairedRatio(series: Series, baseline: Series, metric: (s: Sample) => number | undefined): number {
  const ratios: number[] = [];
  series.samples.forEach((sample, i) => {
    const ours = metric(sample);
    const theirs = baseline.samples[i] ? metric(baseline.samples[i]!) : undefined;
    if (ours !== undefined && theirs !== undefined && theirs > 0) ratios.push(ours / theirs);
  });
  return median(ratios);
}

/** Warren − raw per round (µs of CPU per message), median over rounds. */
export function pairedDifference(series: Series, baseline: Series, metric: (s: Sample) => number | undefined): number {
  const differences: number[] = [];
  series.samples.forEach((sample, i) => {
    const ours = metric(sample);
    const theirs = baseline.samples[i] ? metric(baseline.samples[i]!) : undefined;
    if (ours !== undefined && theirs !== undefined) differences.push(ours - theirs);
  });
  return median(differences);
}

/** Per-message micro-benchmark results of scenario 6, in µs. */
export interface StageTiming {
  stage: string;
  small: number;
  large: number;
  note?: string;
}
