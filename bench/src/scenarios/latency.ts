import { silentLogger, Warren } from '@warren/core';
import { queueDeclaration, rawConnection } from '../broker';
import type { BenchContext } from '../context';
import { payloadPool, type OrderPlaced } from '../messages';
import { alternate, type Sample, type Series } from '../results';
import { DrainCounter, percentile, sleep } from '../stats';
import { consumerClass, publisherClass } from '../warren-apps';

/** The header carrying the publish time (performance.now() of this process: publisher and consumer share a clock). */
const SENT_AT = 'x-bench-sent-at';

/**
 * Scenario 3: end-to-end latency at a fixed rate (2,000 msg/s): publish time in a header → the
 * handler's receive time. Raw: a confirmed rabbitmq-client publisher and a consumer on their own
 * connections (as Warren does it). Warren: a validated route and a validated `@Consumer` in one app.
 * The first `warmupSeconds` are sent but not counted.
 */
export async function latencyScenario(ctx: BenchContext): Promise<Series[]> {
  const { rate } = ctx.config.latency;
  return alternate('latency', `small DTO at ${rate} msg/s`, [
    { side: 'raw rabbitmq-client', baseline: true, run: () => measure(ctx, rawPair) },
    { side: 'warren, validated both ends', run: () => measure(ctx, warrenPair) },
  ], ctx.config.rounds, () => ctx.settle());
}

/** Sends one message stamped with its publish time; resolves at the confirm. */
type Send = (order: OrderPlaced, sentAt: number) => Promise<unknown>;
/** Starts a consumer that reports each message's publish time, and a sender; `stop` closes both. */
type StartPair = (ctx: BenchContext, queue: string, onReceive: (sentAt: number) => void) => Promise<{ send: Send; stop(): Promise<void> }>;

async function measure(ctx: BenchContext, start: StartPair): Promise<Sample> {
  const { rate, seconds, warmupSeconds } = ctx.config.latency;
  const total = Math.round(rate * seconds);
  const queue = await ctx.declareQueue(ctx.name('latency'));
  const latencies: number[] = [];
  const counter = new DrainCounter(total, ctx.brokerCpu);
  let measureFrom = Infinity;
  const pair = await start(ctx, queue, (sentAt) => {
    if (sentAt >= measureFrom) latencies.push(performance.now() - sentAt);
    counter.hit();
  });
  try {
    const payloads = payloadPool('small');
    const began = performance.now();
    measureFrom = began + warmupSeconds * 1000;
    const confirms: Array<Promise<unknown>> = [];
    // Paced by the clock, not by confirms: every millisecond or so, send what is due by now.
    for (let sent = 0; sent < total;) {
      const due = Math.min(total, Math.floor(((performance.now() - began) * rate) / 1000));
      for (; sent < due; sent++) confirms.push(pair.send(payloads[sent % payloads.length]!, performance.now()));
      await sleep(1);
    }
    await Promise.all(confirms);
    await counter.within(ctx.timeoutFor(total), `latency run on ${queue}`);
    return {
      perSecond: counter.perSecond,
      cpuPerMessage: counter.cpuPerMessage,
      brokerCpuPercent: counter.window.brokerCpuPercent,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
    };
  } finally {
    await pair.stop();
    await ctx.dropQueue(queue);
  }
}

const rawPair: StartPair = async (ctx, queue, onReceive) => {
  const { prefetch } = ctx.config.latency;
  const consumeConnection = rawConnection(ctx.config.url, 'bench-raw-latency-consume');
  const publishConnection = rawConnection(ctx.config.url, 'bench-raw-latency-publish');
  const consumer = consumeConnection.createConsumer(
    { queue, queueOptions: queueDeclaration(queue), qos: { prefetchCount: prefetch }, concurrency: prefetch, requeue: false },
    async (msg) => {
      const order = msg.body as OrderPlaced;
      if (order.items.length > 0) onReceive(msg.headers?.[SENT_AT] as number);
    },
  );
  await new Promise((resolve) => consumer.once('ready', resolve));
  const publisher = publishConnection.createPublisher({ confirm: true, maxAttempts: 1 });
  return {
    send: (order, sentAt) => publisher.send(
      { routingKey: queue, durable: true, mandatory: true, contentType: 'application/json', headers: { [SENT_AT]: sentAt } },
      Buffer.from(JSON.stringify(order)),
    ),
    async stop() {
      await publisher.close();
      await consumer.close();
      await Promise.all([publishConnection.close(), consumeConnection.close()]);
    },
  };
};

const warrenPair: StartPair = async (ctx, queue, onReceive) => {
  const { prefetch } = ctx.config.latency;
  const handler = consumerClass({
    queue, prefetch, concurrency: prefetch, mode: 'validated',
    onMessage: (order, context) => {
      if (order.items.length > 0) onReceive(context.header(SENT_AT) as number);
    },
  });
  const Events = publisherClass('', queue);
  const app = await Warren.start({ url: ctx.config.url, handlers: [handler], publishers: [Events], logger: silentLogger, name: 'warren-bench' });
  const events = app.get(Events);
  return {
    send: (order, sentAt) => events.placed(order, { headers: { [SENT_AT]: sentAt } }),
    stop: () => app.close(),
  };
};
