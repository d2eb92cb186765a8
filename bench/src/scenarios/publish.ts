import { silentLogger, Warren } from '@warren/core';
import { rawConnection } from '../broker';
import type { BenchContext } from '../context';
import { payloadPool } from '../messages';
import { alternate, type Sample, type Series } from '../results';
import { Window, windowed } from '../stats';
import { publisherClass } from '../warren-apps';

const ROUTING_KEY = 'order.placed';

/**
 * Scenario 2: publish N small orders with confirms, 1,000 in flight, to a durable direct exchange
 * bound to one durable queue. Raw: rabbitmq-client's publisher (confirm: true, mandatory like
 * Warren's default for direct exchanges) sending JSON.stringify'd bodies. Warren: a `@Publisher`
 * route, which validates, stamps messageId and timestamp, and waits for the confirm; once with its
 * default `mandatory` (direct exchange) and once with `mandatory: false`.
 */
export async function publishScenario(ctx: BenchContext): Promise<Series[]> {
  const { messages, window } = ctx.config.publish;
  return alternate('publish', `small DTO, confirms, ${window} in flight`, [
    { side: 'raw rabbitmq-client', baseline: true, run: () => withTarget(ctx, (exchange) => rawPublish(ctx, exchange, messages, window)) },
    { side: 'warren route, validated', run: () => withTarget(ctx, (exchange) => warrenPublish(ctx, exchange, messages, window, true)) },
    { side: 'warren route, validated, mandatory: false', run: () => withTarget(ctx, (exchange) => warrenPublish(ctx, exchange, messages, window, false)) },
  ], ctx.config.rounds, () => ctx.settle());
}

/** A fresh exchange with one bound queue for one run; both deleted afterwards. */
async function withTarget(ctx: BenchContext, run: (exchange: string) => Promise<Sample>): Promise<Sample> {
  const exchange = ctx.cleanup.exchange(ctx.name('publish'));
  const queue = await ctx.declareQueue(`${exchange}.q`);
  await ctx.admin.exchangeDeclare({ exchange, type: 'direct', durable: true });
  await ctx.admin.queueBind({ exchange, queue, routingKey: ROUTING_KEY });
  try {
    return await run(exchange);
  } finally {
    await ctx.dropQueue(queue);
    await ctx.admin.exchangeDelete({ exchange }).catch(() => undefined);
  }
}

async function rawPublish(ctx: BenchContext, exchange: string, messages: number, window: number): Promise<Sample> {
  const connection = rawConnection(ctx.config.url, 'bench-raw-publish');
  const publisher = connection.createPublisher({ confirm: true, maxAttempts: 1 });
  const payloads = payloadPool('small');
  await publisher.send({ exchange, routingKey: ROUTING_KEY, durable: true }, 'warm-up'); // opens the channel outside the window
  const measured = new Window(ctx.brokerCpu);
  measured.start();
  await windowed(messages, window, (i) => publisher.send(
    { exchange, routingKey: ROUTING_KEY, durable: true, mandatory: true, contentType: 'application/json' },
    Buffer.from(JSON.stringify(payloads[i % payloads.length])),
  ));
  measured.stop();
  await publisher.close();
  await connection.close();
  return sampleOf(measured, messages);
}

async function warrenPublish(ctx: BenchContext, exchange: string, messages: number, window: number, mandatory: boolean): Promise<Sample> {
  const Events = publisherClass(exchange, ROUTING_KEY, mandatory ? {} : { mandatory: false });
  const app = await Warren.start({ url: ctx.config.url, publishers: [Events], logger: silentLogger, name: 'warren-bench' });
  try {
    const events = app.get(Events);
    const payloads = payloadPool('small');
    await events.placed(payloads[0]!); // opens the channel outside the window
    const measured = new Window(ctx.brokerCpu);
    measured.start();
    await windowed(messages, window, (i) => events.placed(payloads[i % payloads.length]!));
    measured.stop();
    return sampleOf(measured, messages);
  } finally {
    await app.close();
  }
}

function sampleOf(window: Window, messages: number): Sample {
  return { perSecond: (messages / window.wallMs) * 1000, cpuPerMessage: window.cpuUs / messages, brokerCpuPercent: window.brokerCpuPercent };
}
