/**
 * `npm run bench:peers`: Warren against the libraries its users already know (issue 16), on the
 * same broker, in one run. Every side runs in a child process of its own, sides alternate within
 * each round, and every queue is declared with Warren's arguments. `--smoke` is the CI-sized run;
 * `--rounds=N`, `--only=consume,publish,rpc` and `--sides=warren,golevelup,…` narrow it.
 * Prints the tables and writes everything to bench/results/<timestamp>-peers.json.
 */
import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { BenchContext } from '../../dist/src/context';
import { bodyBytes } from '../../dist/src/messages';
import { alternate, alternateCases, type Series } from '../../dist/src/results';
import { peersConfigFromArgs, type PeersConfig } from './config';
import { REFERENCE, SIDE_LABELS, type ScenarioName, type SideName } from './protocol';
import { caseTable, evaluateGoals, goalsTable, PUBLISH_CASE } from './report';
import { consumeRun, publishRun, rpcRun } from './runner';

/** Rascal has no request/reply, and Warren's unvalidated consumer is not a request/reply server of its own. */
const RPC_SIDES: readonly SideName[] = ['rabbitmq-client', 'amqplib', 'golevelup', 'golevelup-cv', 'warren'];

async function main(): Promise<void> {
  const config = peersConfigFromArgs(process.argv.slice(2));
  const wanted = (name: ScenarioName) => config.only.size === 0 || config.only.has(name);
  const began = Date.now();
  const loadAtStart = loadavg();
  const ctx = new BenchContext<PeersConfig>(config);
  const settle = () => ctx.settle();
  const series: Series[] = [];
  log(`warren peers bench (${config.mode}, ${config.rounds} round${config.rounds > 1 ? 's' : ''}); sides: ${config.sides.join(', ')}; a ${bodyBytes('small')} B order per message; load average ${loadAtStart.map((l) => l.toFixed(2)).join(' ')}`);
  try {
    await ctx.admin.onConnect(10_000, true);
    if (wanted('consume')) {
      for (const prefetch of config.consume.prefetches) {
        series.push(...await alternate('consume', `prefetch ${prefetch}`, config.sides.map((side) => ({
          side, baseline: side === REFERENCE, run: () => consumeRun(ctx, side, prefetch),
        })), config.rounds, settle));
        log(`consume, prefetch ${prefetch} done`);
      }
    }
    if (wanted('publish')) {
      series.push(...await alternate('publish', PUBLISH_CASE, config.sides.map((side) => ({
        side, baseline: side === REFERENCE, run: () => publishRun(ctx, side),
      })), config.rounds, settle));
      log('publish done');
    }
    if (wanted('rpc')) {
      series.push(...await alternateCases('rpc', config.sides.filter((s) => RPC_SIDES.includes(s)).map((side) => ({
        side, baseline: side === REFERENCE, run: () => rpcRun(ctx, side),
      })), config.rounds, settle));
      log('rpc done');
    }
  } finally {
    await ctx.close();
  }
  print(config, series);
  const loadAtEnd = loadavg();
  const file = writeResults(config, { series, goals: evaluateGoals(series, config.consume.prefetches), loadAverage: { start: loadAtStart, end: loadAtEnd }, durationSeconds: (Date.now() - began) / 1000 });
  console.log(`\nload average at the end ${loadAtEnd.map((l) => l.toFixed(2)).join(' ')}; written to ${file} in ${((Date.now() - began) / 1000).toFixed(0)} s`);
}

function print(config: PeersConfig, series: readonly Series[]): void {
  const { consume, publish, rpc } = config;
  const titles: Record<string, string> = {
    ...Object.fromEntries(consume.prefetches.map((p) => [`consume\u0000prefetch ${p}`, `Consume: drain ${consume.messages.toLocaleString('en-US')} persistent messages (after ${consume.warmup.toLocaleString('en-US')} of warm-up), prefetch ${p}`])),
    [`publish\u0000${PUBLISH_CASE}`]: `Publish with confirms: ${publish.messages.toLocaleString('en-US')} persistent messages, ${publish.window.toLocaleString('en-US')} in flight`,
    'rpc\u0000sequential': `Request/reply, sequential: ${rpc.sequential.toLocaleString('en-US')} requests (CPU of client and server together)`,
    'rpc\u0000parallel': `Request/reply, ${rpc.inFlight} in flight: ${rpc.parallel.toLocaleString('en-US')} requests (CPU of client and server together)`,
  };
  const cases = [...new Set(series.map((s) => `${s.scenario}\u0000${s.case}`))];
  for (const key of cases) {
    const [scenario, caseName] = key.split('\u0000') as [string, string];
    console.log(`\n## ${titles[key] ?? `${scenario}, ${caseName}`}\n\n${caseTable(series, scenario, caseName)}`);
  }
  const smokeNote = config.mode === 'smoke' ? ' (smoke run: far too short to judge; it only proves every side works)' : '';
  console.log(`\n## Goals${smokeNote}\n\n${goalsTable(evaluateGoals(series, consume.prefetches))}`);
  console.log(`\nRatios are medians of per-round ratios against ${SIDE_LABELS[REFERENCE]} (× > 1: more msgs/s, or more CPU, than Warren).`);
}

function writeResults(config: PeersConfig, results: object): string {
  const dir = join(__dirname, '..', '..', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-peers${config.mode === 'smoke' ? '-smoke' : ''}.json`);
  const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: +(totalmem() / 2 ** 30).toFixed(1), node: process.version };
  writeFileSync(file, `${JSON.stringify({ config: { ...config, url: redact(config.url), only: [...config.only] }, machine, ...results }, null, 2)}\n`);
  return file;
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

function log(message: string): void {
  console.log(`[peers ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
