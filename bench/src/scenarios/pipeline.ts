import { container as rootContainer, injectable, type DependencyContainer } from 'tsyringe';
import { CodecRegistry, createPayloadValidator, decodeBody, MessageContext, silentLogger, Warren, type Delivery } from '@warren/core';
import type { BenchContext } from '../context';
import { OrderPlaced, orderPayload, type PayloadSize } from '../messages';
import { microAsync, microSync } from '../micro';
import type { StageTiming } from '../results';
import { StubTransport } from '../stub-transport';
import { consumerClass } from '../warren-apps';

/**
 * Scenario 6: Warren's per-message cost by stage, in µs, from micro-benchmarks of the exported
 * pieces (nothing in core is instrumented): decode, transform + validate, DI resolve, and the whole
 * pipeline on a stub transport; the rest (context, middleware/telemetry, invoke, ack decision) is
 * the whole minus the measured stages.
 */
export async function pipelineScenario(ctx: BenchContext): Promise<StageTiming[]> {
  const ms = ctx.config.microMs;
  const bySize = async (measure: (size: PayloadSize) => number | Promise<number>) => ({ small: await measure('small'), large: await measure('large') });
  const body = (size: PayloadSize) => Buffer.from(JSON.stringify(orderPayload(size)));
  const codecs = new CodecRegistry();
  const timings: StageTiming[] = [];
  const add = async (stage: string, measure: (size: PayloadSize) => number | Promise<number>, note?: string) => {
    timings.push({ stage, ...(await bySize(measure)), note });
  };

  await add('JSON.parse (what the raw client does)', (size) => {
    const bytes = body(size);
    return microSync(() => JSON.parse(bytes.toString('utf8')), ms);
  });
  await add('decode: decodeBody (strict UTF-8 + JSON)', (size) => {
    const bytes = body(size);
    return microSync(() => decodeBody(bytes, 'application/json', 'value', codecs, 16 * 1024 * 1024), ms);
  });
  await add('transform + validate, compiled', (size) => {
    const validator = createPayloadValidator(OrderPlaced);
    if (!validator.compiled) throw new Error(`OrderPlaced is not compiled: ${validator.fallbackReason}`);
    const plain = orderPayload(size);
    return microSync(() => validator.validate(plain), ms);
  });
  await add('transform + validate, compile: false', (size) => {
    const validator = createPayloadValidator(OrderPlaced, { compile: false });
    const plain = orderPayload(size);
    return microSync(() => validator.validate(plain), ms);
  }, 'class-transformer + class-validator, as issue 6 measured them');

  const di = diFixture();
  const appScoped = microSync(() => di.container.resolve(Billing), ms);
  timings.push({ stage: 'DI: container.resolve (2 singleton deps)', small: appScoped, large: appScoped, note: 'Warren resolves app-scoped handlers once at start; per message it is a Map lookup' });
  const delivery = deliveryOf('small');
  const context = new MessageContext(delivery, 1);
  const messageScoped = microSync(() => {
    const child = di.container.createChildContainer();
    child.registerInstance(MessageContext, context);
    return child.resolve(Billing);
  }, ms);
  timings.push({ stage: 'DI: child container per message (scope: message)', small: messageScoped, large: messageScoped });

  for (const telemetry of [true, false]) {
    const whole = await bySize(async (size) => {
      const handle = await stubPipeline(telemetry);
      const message = deliveryOf(size);
      return microAsync(() => handle(message), ms);
    });
    timings.push({ stage: `whole pipeline per delivery (stub transport, telemetry ${telemetry ? 'on: default' : 'off'})`, ...whole });
    if (telemetry) {
      const decode = timings.find((t) => t.stage.startsWith('decode'))!;
      const validate = timings.find((t) => t.stage === 'transform + validate, compiled')!;
      timings.push({
        stage: 'rest: context, telemetry, invoke, ack decision (whole − decode − validate)',
        small: whole.small - decode.small - validate.small,
        large: whole.large - decode.large - validate.large,
      });
    }
  }
  return timings;
}

class Ledger { entries = 0; }
class Clock { now() { return Date.now(); } }

@injectable()
class Billing {
  constructor(readonly ledger: Ledger, readonly clock: Clock) {}
}

function diFixture(): { container: DependencyContainer } {
  const container = rootContainer.createChildContainer();
  container.registerSingleton(Ledger);
  container.registerSingleton(Clock);
  return { container };
}

function deliveryOf(size: PayloadSize): Delivery {
  return {
    body: Buffer.from(JSON.stringify(orderPayload(size))),
    properties: { contentType: 'application/json', deliveryMode: 2, messageId: 'bench-1', timestamp: Math.floor(Date.now() / 1000) },
    exchange: '',
    routingKey: 'bench.pipeline',
    queue: 'bench.pipeline',
    redelivered: false,
  };
}

/** Warren's real delivery handler for a validated consumer, taken from a stub transport. */
async function stubPipeline(telemetry: boolean): Promise<(delivery: Delivery) => Promise<unknown>> {
  const transport = new StubTransport();
  const handler = consumerClass({ queue: 'bench.pipeline', prefetch: 1, concurrency: 1, mode: 'validated', onMessage: () => undefined });
  await Warren.start({ transport, handlers: [handler], logger: silentLogger, telemetry });
  const handle = transport.handlers.get('bench.pipeline')!;
  return async (delivery) => {
    const settlement = await handle(delivery);
    if (settlement !== 'ack') throw new Error(`the pipeline did not ack: ${settlement}`);
  };
}
