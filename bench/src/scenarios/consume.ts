import { silentLogger, Warren } from '@warren/core';
import { prefill, queueDeclaration, rawConnection } from '../broker';
import type { BenchContext } from '../context';
import { payloadPool, type OrderPlaced, type PayloadSize } from '../messages';
import { alternate, type Sample, type Series, type Side } from '../results';
import { DrainCounter } from '../stats';
import { consumerClass, type PayloadMode } from '../warren-apps';

/**
 * Scenario 1: drain N persistent ~1 KB JSON messages from a pre-filled durable queue.
 * Raw: a rabbitmq-client consumer (which JSON.parses application/json bodies itself). Warren: a
 * `@Consumer` with the OrderPlaced DTO, validated (compiled, and with class-validator itself), and
 * unvalidated (`{ message: Object }`). Same queue arguments, prefetch and concurrency on both sides.
 */
export async function consumeScenario(ctx: BenchContext): Promise<Series[]> {
  const { config } = ctx;
  const all: Series[] = [];
  if (config.consume.warmupMessages > 0) await warmUp(ctx);
  for (const prefetch of config.consume.prefetches) {
    for (const size of ['small', 'large'] as const) {
      const modes: PayloadMode[] = size === 'small' ? ['validated', 'class-validator', 'unvalidated'] : ['validated'];
      const sides: Side[] = [
        { side: 'raw rabbitmq-client', baseline: true, run: () => drain(ctx, size, prefetch, config.consume.messages, rawConsumer) },
        ...modes.map((mode): Side => ({ side: `warren, ${describe(mode)}`, run: () => drain(ctx, size, prefetch, config.consume.messages, warrenConsumer(mode)) })),
      ];
      all.push(...await alternate('consume', `${size} DTO, prefetch ${prefetch}`, sides, config.rounds, () => ctx.settle()));
    }
  }
  return all;
}

function describe(mode: PayloadMode): string {
  return mode === 'validated' ? 'validated (compiled)' : mode === 'class-validator' ? 'validated (compile: false)' : 'unvalidated ({ message: Object })';
}

/** One JIT warm-up drain per side, not recorded: the first run of a process is slower on either side. */
async function warmUp(ctx: BenchContext): Promise<void> {
  const n = ctx.config.consume.warmupMessages;
  await drain(ctx, 'small', 50, n, rawConsumer);
  await drain(ctx, 'small', 50, n, warrenConsumer('validated'));
  await drain(ctx, 'small', 50, n, warrenConsumer('unvalidated'));
}

/** Starts consuming `queue`, counting into `counter`; resolves to a function that stops and disconnects. */
type StartConsumer = (ctx: BenchContext, queue: string, prefetch: number, counter: DrainCounter) => Promise<() => Promise<void>>;

async function drain(ctx: BenchContext, size: PayloadSize, prefetch: number, messages: number, start: StartConsumer): Promise<Sample> {
  const queue = await ctx.declareQueue(ctx.name('consume', size, prefetch));
  try {
    const bodies = payloadPool(size).map((p) => Buffer.from(JSON.stringify(p)));
    await prefill(ctx.admin, queue, messages, bodies);
    await ctx.settle();
    const counter = new DrainCounter(messages, ctx.brokerCpu);
    const stop = await start(ctx, queue, prefetch, counter);
    try {
      await counter.within(ctx.timeoutFor(messages), `draining ${queue}`);
    } finally {
      await stop();
    }
    return { perSecond: counter.perSecond, cpuPerMessage: counter.cpuPerMessage, brokerCpuPercent: counter.window.brokerCpuPercent };
  } finally {
    await ctx.dropQueue(queue);
  }
}

/** The sink keeps each handler's read of the payload from being optimised away, on both sides alike. */
let sink = 0;

const rawConsumer: StartConsumer = async (ctx, queue, prefetch, counter) => {
  const connection = rawConnection(ctx.config.url, 'bench-raw-consume');
  const consumer = connection.createConsumer(
    { queue, queueOptions: queueDeclaration(queue), qos: { prefetchCount: prefetch }, concurrency: prefetch, requeue: false },
    async (msg) => {
      const order = msg.body as OrderPlaced; // parsed by rabbitmq-client: the content type is application/json
      sink += order.items.length;
      counter.hit();
    },
  );
  return async () => {
    await consumer.close();
    await connection.close();
  };
};

function warrenConsumer(mode: PayloadMode): StartConsumer {
  return async (ctx, queue, prefetch, counter) => {
    const handler = consumerClass({
      queue, prefetch, concurrency: prefetch, mode,
      onMessage: (order) => {
        sink += order.items.length;
        counter.hit();
      },
    });
    const app = await Warren.start({ url: ctx.config.url, handlers: [handler], logger: silentLogger, name: 'warren-bench' });
    return () => app.close();
  };
}

