import { silentLogger, Warren } from '@warren/core';
import { queueDeclaration, rawConnection } from '../broker';
import type { BenchContext } from '../context';
import { payloadPool, type OrderPlaced, type OrderQuote } from '../messages';
import { alternateCases, type Sample, type Series } from '../results';
import { percentile, windowed } from '../stats';
import { consumerClass, publisherClass } from '../warren-apps';

/**
 * Scenario 4: request/reply over direct reply-to, sequential and with 100 requests in flight.
 * Raw: rabbitmq-client's RPCClient (confirm: true) on one connection and a consumer answering with
 * `reply()` on another. Warren: `route.request()` (validated request, validated OrderQuote reply)
 * and a validated `@Consumer` returning the quote, in one app (its own two connections).
 */
export async function rpcScenario(ctx: BenchContext): Promise<Series[]> {
  const { sequential, parallel, inFlight } = ctx.config.rpc;
  const sides: Array<{ side: string; baseline: boolean; start: StartRpc }> = [
    { side: 'raw rabbitmq-client', baseline: true, start: rawRpc },
    { side: 'warren, validated both ways', baseline: false, start: warrenRpc },
  ];
  // One server and client per side and round serve both cases; each case is still alternated.
  return alternateCases('rpc', sides.map((s) => ({
    side: s.side,
    baseline: s.baseline,
    run: async () => {
      const [one, many] = await measure(ctx, s.start);
      return { [`sequential (${sequential} requests)`]: one, [`${inFlight} in flight (${parallel} requests)`]: many };
    },
  })), ctx.config.rounds, () => ctx.settle());
}

type Request = (order: OrderPlaced) => Promise<OrderQuote>;
type StartRpc = (ctx: BenchContext, queue: string) => Promise<{ request: Request; stop(): Promise<void> }>;

async function measure(ctx: BenchContext, start: StartRpc): Promise<[Sample, Sample]> {
  const { sequential, parallel, inFlight, warmup } = ctx.config.rpc;
  const queue = await ctx.declareQueue(ctx.name('rpc'));
  const rpc = await start(ctx, queue);
  try {
    const payloads = payloadPool('small');
    const timed = async (i: number, latencies: number[]) => {
      const began = performance.now();
      const quote = await rpc.request(payloads[i % payloads.length]!);
      latencies.push(performance.now() - began);
      if (quote.orderId !== payloads[i % payloads.length]!.orderId) throw new Error('reply for another request');
    };
    for (let i = 0; i < warmup; i++) await timed(i, []);
    const run = async (count: number, window: number): Promise<Sample> => {
      const latencies: number[] = [];
      const cpuStart = process.cpuUsage();
      const began = performance.now();
      await windowed(count, window, (i) => timed(i, latencies));
      const wallMs = performance.now() - began;
      const cpu = process.cpuUsage(cpuStart);
      return { perSecond: (count / wallMs) * 1000, cpuPerMessage: (cpu.user + cpu.system) / count, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) };
    };
    const one = await run(sequential, 1);
    await ctx.settle();
    const many = await run(parallel, inFlight);
    return [one, many];
  } finally {
    await rpc.stop();
    await ctx.dropQueue(queue);
  }
}

const rawRpc: StartRpc = async (ctx, queue) => {
  const { inFlight } = ctx.config.rpc;
  const serverConnection = rawConnection(ctx.config.url, 'bench-raw-rpc-server');
  const clientConnection = rawConnection(ctx.config.url, 'bench-raw-rpc-client');
  const server = serverConnection.createConsumer(
    { queue, queueOptions: queueDeclaration(queue), qos: { prefetchCount: inFlight }, concurrency: inFlight, requeue: false },
    async (msg, reply) => {
      const order = msg.body as OrderPlaced;
      await reply({ orderId: order.orderId, total: order.total }, { contentType: 'application/json' });
    },
  );
  await new Promise((resolve) => server.once('ready', resolve));
  const client = clientConnection.createRPCClient({ confirm: true });
  return {
    request: async (order) => {
      const response = await client.send({ routingKey: queue, contentType: 'application/json' }, Buffer.from(JSON.stringify(order)));
      return response.body as OrderQuote; // parsed by rabbitmq-client (application/json)
    },
    async stop() {
      await client.close();
      await server.close();
      await Promise.all([clientConnection.close(), serverConnection.close()]);
    },
  };
};

const warrenRpc: StartRpc = async (ctx, queue) => {
  const { inFlight } = ctx.config.rpc;
  const handler = consumerClass({
    queue, prefetch: inFlight, concurrency: inFlight, mode: 'validated',
    onMessage: (order): OrderQuote => ({ orderId: order.orderId, total: order.total }),
  });
  const Requests = publisherClass('', queue);
  const app = await Warren.start({ url: ctx.config.url, handlers: [handler], publishers: [Requests], logger: silentLogger, name: 'warren-bench' });
  const requests = app.get(Requests);
  return {
    request: (order) => requests.placed.request(order),
    stop: () => app.close(),
  };
};
