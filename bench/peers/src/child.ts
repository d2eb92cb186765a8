import 'reflect-metadata';
import { processCpuReader } from '../../dist/src/broker';
import { payloadPool, type OrderPlaced } from '../../dist/src/messages';
import type { Sample } from '../../dist/src/results';
import { percentile, Window, windowed } from '../../dist/src/stats';
import type { ConsumeJob, Job, PublishJob, Report, RpcJob, SideName } from './protocol';
import type { Closable, PeerSide } from './sides/side';

/**
 * One side, one run, in a process of its own (forked by run.ts with the job as JSON in argv[2]):
 * nothing of another library is loaded, warmed up or collecting garbage here. Sends one Report
 * over IPC as soon as it has measured, then closes and exits.
 */

/** Loaded on demand: a child loads only its own library. */
const SIDE_IMPLEMENTATIONS: Record<SideName, () => Promise<PeerSide>> = {
  'rabbitmq-client': async () => (await import('./sides/rabbitmq-client.js')).rabbitmqClient,
  amqplib: async () => (await import('./sides/amqplib.js')).amqplib,
  golevelup: async () => (await import('./sides/golevelup.js')).golevelup(false),
  'golevelup-cv': async () => (await import('./sides/golevelup.js')).golevelup(true),
  rascal: async () => (await import('./sides/rascal.js')).rascal,
  warren: async () => (await import('./sides/warren.js')).warren(true),
  'warren-unvalidated': async () => (await import('./sides/warren.js')).warren(false),
};

/** The sink keeps every side's read of the payload from being optimised away. */
let sink = 0;

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '') as Job;
  let opened: Closable | undefined;
  try {
    const side = await SIDE_IMPLEMENTATIONS[job.side]();
    const samples = job.scenario === 'consume' ? await consume(side, job, (c) => { opened = c; })
      : job.scenario === 'publish' ? await publish(side, job, (c) => { opened = c; })
        : await rpc(side, job, (c) => { opened = c; });
    await report({ ok: true, samples });
  } catch (error) {
    await report({ ok: false, error: error instanceof Error ? error.stack ?? error.message : String(error) });
  }
  await within(opened?.close(), 10_000);
  process.exit(0);
}

function brokerCpu(job: Job): (() => number | undefined) | undefined {
  return job.brokerPid === undefined ? undefined : processCpuReader(job.brokerPid);
}

/** Drains the queue; the window opens at the `warmup`-th message and closes `messages` later, inside the handler. */
async function consume(side: PeerSide, job: ConsumeJob, opened: (c: Closable) => void): Promise<Record<string, Sample>> {
  const window = new Window(brokerCpu(job));
  let count = 0;
  const last = job.warmup + job.messages;
  let finished!: () => void;
  const done = new Promise<void>((resolve) => { finished = resolve; });
  const onOrder = (order: OrderPlaced) => {
    sink += order.items.length;
    if (++count === job.warmup) window.start();
    else if (count === last) { window.stop(); finished(); }
  };
  opened(await side.consume({ url: job.url, queue: job.queue, queueArguments: job.queueArguments, prefetch: job.prefetch, onOrder }));
  await done;
  return { consume: sampleOf(window, job.messages) };
}

async function publish(side: PeerSide, job: PublishJob, opened: (c: Closable) => void): Promise<Record<string, Sample>> {
  if (!side.publisher) throw new Error(`${job.side} has no publisher`);
  const sender = await side.publisher(job.url, job.exchange, job.routingKey);
  opened(sender);
  const orders = payloadPool('small');
  await windowed(job.warmup, job.window, (i) => sender.send(orders[i % orders.length]!));
  const window = new Window(brokerCpu(job));
  window.start();
  await windowed(job.messages, job.window, (i) => sender.send(orders[i % orders.length]!));
  window.stop();
  return { publish: sampleOf(window, job.messages) };
}

async function rpc(side: PeerSide, job: RpcJob, opened: (c: Closable) => void): Promise<Record<string, Sample>> {
  if (!side.rpc) throw new Error(`${job.side} has no request/reply`);
  const requester = await side.rpc({ url: job.url, queue: job.queue, queueArguments: job.queueArguments, prefetch: job.inFlight });
  opened(requester);
  const orders = payloadPool('small');
  const timed = async (i: number, latencies: number[]) => {
    const order = orders[i % orders.length]!;
    const began = performance.now();
    const quote = await requester.request(order);
    latencies.push(performance.now() - began);
    if (quote.orderId !== order.orderId) throw new Error(`${job.side}: a reply for another request`);
  };
  await windowed(job.warmup, 1, (i) => timed(i, []));
  const run = async (count: number, inFlight: number): Promise<Sample> => {
    const latencies: number[] = [];
    const window = new Window(brokerCpu(job));
    window.start();
    await windowed(count, inFlight, (i) => timed(i, latencies));
    window.stop();
    return { ...sampleOf(window, count), p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) };
  };
  const sequential = await run(job.sequential, 1);
  const parallel = await run(job.parallel, job.inFlight);
  return { sequential, parallel };
}

function sampleOf(window: Window, messages: number): Sample {
  return { perSecond: (messages / window.wallMs) * 1000, cpuPerMessage: window.cpuUs / messages, brokerCpuPercent: window.brokerCpuPercent };
}

function report(message: Report): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) {
      console.log(JSON.stringify({ ...message, sink }));
      resolve();
      return;
    }
    process.send(message, () => resolve());
  });
}

/** Waits for `promise`, at most `ms`; never rejects (a side that cannot close cleanly is killed with its process). */
function within(promise: Promise<unknown> | undefined, ms: number): Promise<void> {
  if (!promise) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    promise.then(() => { clearTimeout(timer); resolve(); }, () => { clearTimeout(timer); resolve(); });
  });
}

void main();
