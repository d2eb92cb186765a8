import { fork } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { prefill, warrenQueueArguments } from '../../dist/src/broker';
import type { BenchContext } from '../../dist/src/context';
import { payloadPool } from '../../dist/src/messages';
import type { Sample } from '../../dist/src/results';
import type { PeersConfig } from './config';
import type { Job, Report, SideName } from './protocol';

/** A sample with the machine's load when the run started (1-minute load average). */
export type PeerSample = Sample & { loadAverage: number };

type Context = BenchContext<PeersConfig>;

/** Forks a child for one side and job; resolves with its samples once it has exited. */
export async function runChild(ctx: Context, job: Job, timeoutMs: number): Promise<Record<string, PeerSample>> {
  const loadAverage = loadavg()[0]!;
  const child = fork(join(__dirname, 'child.js'), [JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  child.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const report = await new Promise<Report>((resolve) => {
    const timer = setTimeout(() => resolve({ ok: false, error: `no report within ${timeoutMs} ms` }), timeoutMs);
    child.once('message', (message: Report) => { clearTimeout(timer); resolve(message); });
    child.once('exit', (code) => { clearTimeout(timer); resolve({ ok: false, error: `exited (code ${code}) without a report` }); });
  });
  // The next run starts only once this side is gone: its teardown must not overlap another's window.
  const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(killer);
  if (!report.ok) throw new Error(`${job.side}, ${job.scenario}: ${report.error}${output ? `\n--- its output ---\n${output.slice(-4000)}` : ''}`);
  return Object.fromEntries(Object.entries(report.samples).map(([name, sample]) => [name, { ...sample, loadAverage }]));
}

/** A generous limit for a run of `messages` (at 200 msg/s), so a stuck side fails instead of hanging. */
function timeoutFor(messages: number): number {
  return 30_000 + (messages / 200) * 1000;
}

/** Pre-fills a queue declared as Warren declares its queues, then lets `side` drain it. */
export async function consumeRun(ctx: Context, side: SideName, prefetch: number): Promise<PeerSample> {
  const { warmup, messages } = ctx.config.consume;
  const queue = await ctx.declareQueue(ctx.name('consume', side, prefetch));
  try {
    await prefill(ctx.admin, queue, warmup + messages, payloadPool('small').map((p) => Buffer.from(JSON.stringify(p))));
    await ctx.settle();
    const samples = await runChild(ctx, { scenario: 'consume', side, url: ctx.config.url, brokerPid: ctx.brokerPid, queue, queueArguments: warrenQueueArguments(queue), prefetch, warmup, messages }, timeoutFor(warmup + messages));
    return samples.consume!;
  } finally {
    await ctx.dropQueue(queue);
  }
}

/** A fresh durable direct exchange bound to one queue; `side` publishes to it with confirms. */
export async function publishRun(ctx: Context, side: SideName): Promise<PeerSample> {
  const { warmup, messages, window } = ctx.config.publish;
  const exchange = ctx.cleanup.exchange(ctx.name('publish', side));
  const queue = await ctx.declareQueue(`${exchange}.q`);
  const routingKey = 'order.placed';
  await ctx.admin.exchangeDeclare({ exchange, type: 'direct', durable: true });
  await ctx.admin.queueBind({ exchange, queue, routingKey });
  try {
    const samples = await runChild(ctx, { scenario: 'publish', side, url: ctx.config.url, brokerPid: ctx.brokerPid, exchange, routingKey, warmup, messages, window }, timeoutFor(warmup + messages));
    return samples.publish!;
  } finally {
    await ctx.dropQueue(queue);
    await ctx.admin.exchangeDelete({ exchange }).catch(() => undefined);
  }
}

/** One server and client of `side` in one child: sequential requests, then `inFlight` at once. */
export async function rpcRun(ctx: Context, side: SideName): Promise<{ sequential: PeerSample; parallel: PeerSample }> {
  const { warmup, sequential, parallel, inFlight } = ctx.config.rpc;
  const queue = await ctx.declareQueue(ctx.name('rpc', side));
  try {
    const samples = await runChild(ctx, { scenario: 'rpc', side, url: ctx.config.url, brokerPid: ctx.brokerPid, queue, queueArguments: warrenQueueArguments(queue), warmup, sequential, parallel, inFlight }, timeoutFor(warmup + sequential * 5 + parallel));
    return { sequential: samples.sequential!, parallel: samples.parallel! };
  } finally {
    await ctx.dropQueue(queue);
  }
}
