import { MemoryTransport, silentLogger, Warren } from '@warren/core';
import type { BenchContext } from '../context';
import { payloadPool } from '../messages';
import { alternate, type Sample, type Series } from '../results';
import { DrainCounter, windowed } from '../stats';
import { consumerClass, publisherClass } from '../warren-apps';

/**
 * Scenario 5: the embedded in-memory broker end to end (issue 3's target: ≥ 50,000 validated
 * messages/s): publish → route → queue → decode → validate → handler → ack, all in this process.
 * With the compiled validator and with `compile: false` (class-transformer + class-validator), and
 * once through a validated `@Publisher` route (validating on both ends) instead of `app.publish`.
 */
export async function memoryScenario(ctx: BenchContext): Promise<Series[]> {
  return alternate('memory', 'small DTO, publish → handler → ack', [
    { side: 'warren, app.publish → validated (compiled)', run: () => memoryRun(ctx, true, 'app.publish') },
    { side: 'warren, app.publish → validated (compile: false)', run: () => memoryRun(ctx, false, 'app.publish') },
    { side: 'warren, validated route → validated (compiled)', run: () => memoryRun(ctx, true, 'route') },
  ], ctx.config.rounds, async () => undefined);
}

async function memoryRun(ctx: BenchContext, compile: boolean, via: 'app.publish' | 'route'): Promise<Sample> {
  const { messages, window, prefetch } = ctx.config.memory;
  const queue = 'bench.memory.orders';
  const counter = new DrainCounter(messages);
  const handler = consumerClass({
    queue, prefetch, concurrency: prefetch, mode: compile ? 'validated' : 'class-validator',
    onMessage: (order) => {
      if (order.items.length > 0) counter.hit();
    },
  });
  const Events = publisherClass('', queue);
  const app = await Warren.start({
    transport: new MemoryTransport(), handlers: [handler], publishers: [Events], logger: silentLogger, name: 'warren-bench',
    validation: compile ? undefined : { compile: false },
  });
  try {
    const events = app.get(Events);
    const payloads = payloadPool('small');
    const publish = via === 'route'
      ? (i: number) => events.placed(payloads[i % payloads.length]!)
      : (i: number) => app.publish('', queue, payloads[i % payloads.length]);
    await Promise.all([windowed(messages, window, publish), counter.within(ctx.timeoutFor(messages), 'in-memory run')]);
    return { perSecond: counter.perSecond, cpuPerMessage: counter.cpuPerMessage };
  } finally {
    await app.close();
  }
}
