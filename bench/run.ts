/**
 * `npm run bench`: Warren against raw rabbitmq-client on the same broker, in one run (issue 6).
 * `node bench/dist/run.js --smoke` is the CI-sized run; `--only=consume,rpc` and `--rounds=N` narrow it.
 * Prints the tables and writes everything to bench/results/<timestamp>.json.
 */
import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { configFromArgs, type BenchConfig } from './src/config';
import { BenchContext } from './src/context';
import { bodyBytes } from './src/messages';
import type { Series, StageTiming } from './src/results';
import { consumeScenario } from './src/scenarios/consume';
import { latencyScenario } from './src/scenarios/latency';
import { memoryScenario } from './src/scenarios/memory';
import { pipelineScenario } from './src/scenarios/pipeline';
import { publishScenario } from './src/scenarios/publish';
import { rpcScenario } from './src/scenarios/rpc';
import { latencyTable, pipelineTable, throughputTable } from './src/table';
import { evaluateTargets, targetsTable } from './src/targets';

async function main(): Promise<void> {
  const config = configFromArgs(process.argv.slice(2));
  const wanted = (name: string) => config.only.size === 0 || config.only.has(name);
  const began = Date.now();
  const ctx = new BenchContext(config);
  const series: Series[] = [];
  let pipeline: StageTiming[] = [];
  log(`warren bench (${config.mode}, ${config.rounds} round${config.rounds > 1 ? 's' : ''}) on ${redact(config.url)}; names start with ${config.runId}`);
  log(`payloads: small ${bodyBytes('small')} B, large ${bodyBytes('large')} B of JSON`);
  try {
    await ctx.admin.onConnect(10_000, true);
    const steps: Array<[string, () => Promise<void>]> = [
      ['pipeline', async () => { pipeline = await pipelineScenario(ctx); }],
      ['memory', async () => { series.push(...await memoryScenario(ctx)); }],
      ['consume', async () => { series.push(...await consumeScenario(ctx)); }],
      ['publish', async () => { series.push(...await publishScenario(ctx)); }],
      ['latency', async () => { series.push(...await latencyScenario(ctx)); }],
      ['rpc', async () => { series.push(...await rpcScenario(ctx)); }],
    ];
    for (const [name, step] of steps) {
      if (!wanted(name)) continue;
      const start = Date.now();
      await step();
      log(`${name} done in ${((Date.now() - start) / 1000).toFixed(1)} s`);
    }
  } finally {
    await ctx.close();
  }

  const throughput = series.filter((s) => s.scenario === 'consume' || s.scenario === 'publish' || s.scenario === 'memory');
  const latency = series.filter((s) => s.scenario === 'latency' || s.scenario === 'rpc');
  const targets = evaluateTargets(series, config.consume.prefetches);
  const print = (title: string, table: string) => console.log(`\n## ${title}\n\n${table}`);
  if (throughput.length) print('Throughput (ratio and Δ CPU: median of per-round pairs against raw)', throughputTable(throughput));
  if (latency.length) print('Latency', latencyTable(latency));
  if (pipeline.length) print('Pipeline per message (micro-benchmarks)', pipelineTable(pipeline));
  const smokeNote = config.mode === 'smoke' ? ' (smoke run: far too short to judge; it only proves the bench works)' : '';
  print(`Targets (issue 6, issue 3)${smokeNote}`, targetsTable(targets));

  const file = writeResults(config, { series, pipeline, targets, durationSeconds: (Date.now() - began) / 1000 });
  console.log(`\nwritten to ${file} in ${((Date.now() - began) / 1000).toFixed(0)} s`);
}

function writeResults(config: BenchConfig, results: object): string {
  const dir = join(__dirname, '..', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}${config.mode === 'smoke' ? '-smoke' : ''}.json`);
  const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: +(totalmem() / 2 ** 30).toFixed(1), loadAverage: loadavg(), node: process.version };
  writeFileSync(file, `${JSON.stringify({ config: { ...config, url: redact(config.url), only: [...config.only] }, machine, ...results }, null, 2)}\n`);
  return file;
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

function log(message: string): void {
  console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
