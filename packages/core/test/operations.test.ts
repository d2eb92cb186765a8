import 'reflect-metadata';
import { expect } from 'chai';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { AsyncHooksContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { IsString } from 'class-validator';
import { container, injectable } from 'tsyringe';
import {
  assertValidConfig, configFromEnv, ConfigurationError, Consumer, MemoryTransport, Publisher, route, silentLogger, Warren,
  type ConsumeMiddleware, type PublishMiddleware, type SettledEvent,
} from '../src';
import { until } from './support/until';

class Ping {
  @IsString() text!: string;
}

@Publisher('ops')
class Pings {
  readonly ping = route('ping', Ping);
}

@injectable()
class Relay {
  readonly seenTraceIds: string[] = [];
  constructor(private readonly pings: Pings) {}

  @Consumer('ops', 'ping', { queue: 'ops.ping' })
  async onPing(ping: Ping) {
    this.seenTraceIds.push(trace.getActiveSpan()?.spanContext().traceId ?? 'none');
    if (ping.text === 'fail') throw new Error('nope');
  }

  async send(text: string) {
    await this.pings.ping({ text });
  }
}


describe('Middleware', () => {
  it('runs consume and publish middleware around every handler call and publish, in order', async () => {
    const calls: string[] = [];
    const consume: ConsumeMiddleware = async (call, next) => {
      calls.push(`before ${call.consumer}`);
      const result = await next();
      calls.push(`after ${call.consumer}`);
      return result;
    };
    const publish: PublishMiddleware = async (message, next) => {
      message.properties = { ...message.properties, headers: { ...message.properties.headers, 'x-tenant': 'acme' } };
      calls.push(`publish ${message.routingKey}`);
      await next();
    };
    const settled: SettledEvent[] = [];
    const app = await Warren.start({ transport: new MemoryTransport(), handlers: [Relay], logger: silentLogger, middleware: { consume: [consume], publish: [publish] }, onSettled: (e) => settled.push(e), container: container.createChildContainer() });
    try {
      await app.get(Relay).send('hi');
      await until(() => settled.length === 1);
      expect(calls).to.deep.equal(['publish ping', 'before Relay.onPing', 'after Relay.onPing']);
    } finally {
      await app.close();
    }
  });

  it('lets a consume middleware short-circuit the handler', async () => {
    const seen: string[] = [];
    const dedupe: ConsumeMiddleware = async (call, next) => {
      if (seen.includes(String(call.context.messageId))) return undefined;
      seen.push(String(call.context.messageId));
      return next();
    };
    const settled: SettledEvent[] = [];
    const app = await Warren.start({ transport: new MemoryTransport(), handlers: [Relay], logger: silentLogger, middleware: { consume: [dedupe] }, onSettled: (e) => settled.push(e), container: container.createChildContainer() });
    try {
      await app.publish('ops', 'ping', { text: 'a' }, { messageId: 'same' });
      await app.publish('ops', 'ping', { text: 'a' }, { messageId: 'same' });
      await until(() => settled.length === 2);
      expect(app.get(Relay).seenTraceIds).to.have.length(1);
    } finally {
      await app.close();
    }
  });
});

describe('OpenTelemetry', () => {
  const spans = new InMemorySpanExporter();
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 60_000 });
  const contextManager = new AsyncHooksContextManager();

  before(() => {
    contextManager.enable();
    context.setGlobalContextManager(contextManager);
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }));
    metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
  });

  after(() => {
    trace.disable();
    metrics.disable();
    propagation.disable();
    context.disable();
  });

  it('carries the trace from publisher to consumer in W3C headers, with messaging attributes', async () => {
    const app = await Warren.start({ transport: new MemoryTransport(), handlers: [Relay], logger: silentLogger, container: container.createChildContainer(), name: 'relay' });
    try {
      spans.reset();
      await app.get(Relay).send('hi');
      await until(() => app.get(Relay).seenTraceIds.length === 1);
      await until(() => spans.getFinishedSpans().length === 2);
      const [publish, process] = [...spans.getFinishedSpans()].sort((a, b) => (a.name < b.name ? 1 : -1));
      expect(publish!.name).to.equal('publish ops');
      expect(process!.name).to.equal('process ops');
      expect(process!.spanContext().traceId).to.equal(publish!.spanContext().traceId);
      expect(process!.parentSpanContext?.spanId).to.equal(publish!.spanContext().spanId);
      expect(app.get(Relay).seenTraceIds[0]).to.equal(publish!.spanContext().traceId);
      expect(process!.attributes).to.include({ 'messaging.system': 'rabbitmq', 'messaging.destination.name': 'ops', 'messaging.rabbitmq.destination.routing_key': 'ping', 'messaging.consumer.group.name': 'ops.ping' });
      expect(process!.attributes['messaging.message.id']).to.be.a('string');
    } finally {
      await app.close();
    }
  });

  it('counts consumed and dead-lettered messages and records handler durations', async () => {
    const app = await Warren.start({ transport: new MemoryTransport(), handlers: [Relay], logger: silentLogger, container: container.createChildContainer() });
    try {
      await app.get(Relay).send('ok');
      await app.get(Relay).send('fail');
      await until(() => app.get(Relay).seenTraceIds.length === 2);
      await new Promise((resolve) => setTimeout(resolve, 20));
      await reader.forceFlush();
      const exported = metricExporter.getMetrics().at(-1)!.scopeMetrics.flatMap((s) => s.metrics);
      const sum = (name: string) => exported.find((m) => m.descriptor.name === name)?.dataPoints.reduce((n, p) => n + (p.value as number), 0) ?? 0;
      expect(sum('warren.messages.consumed')).to.be.at.least(1);
      expect(sum('warren.messages.dead_lettered')).to.be.at.least(1);
      expect(exported.map((m) => m.descriptor.name)).to.include.members(['warren.handler.duration', 'warren.publish.duration']);
    } finally {
      await app.close();
    }
  });
});

describe('Health', () => {
  function get(port: number, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
    return new Promise((resolve, reject) => {
      request({ host: '127.0.0.1', port, path }, (res) => {
        let data = '';
        res.on('data', (chunk) => (data += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(data) }));
      }).on('error', reject).end();
    });
  }

  it('reports each consumer attached and serves /healthz and /readyz', async () => {
    const app = await Warren.start({ transport: new MemoryTransport(), handlers: [Relay], logger: silentLogger, container: container.createChildContainer(), health: { port: 0, host: '127.0.0.1' } });
    const port = (app.healthAddress as AddressInfo).port;
    try {
      expect(app.health()).to.deep.include({ status: 'up', connected: true });
      expect(app.health().consumers).to.deep.equal([{ consumer: 'Relay.onPing', queue: 'ops.ping', attached: true }]);
      expect((await get(port, '/healthz')).status).to.equal(200);
      const ready = await get(port, '/readyz');
      expect(ready.status).to.equal(200);
      expect(ready.body.status).to.equal('up');
    } finally {
      await app.close();
    }
    expect(app.health().status).to.equal('closed');
  });

  it('serves health on 127.0.0.1 unless told otherwise, with no userinfo in the report', async () => {
    // A custom transport careless with its description: the report must not repeat the password.
    const careless = new MemoryTransport();
    Object.defineProperty(careless, 'description', { value: 'custom amqp://app:S3cr@t/#?%:@broker.internal:5672/prod' });
    const app = await Warren.start({ transport: careless, handlers: [Relay], logger: silentLogger, container: container.createChildContainer(), health: { port: 0 } });
    try {
      const address = app.healthAddress as AddressInfo;
      expect(address.address).to.equal('127.0.0.1');
      const health = await get(address.port, '/healthz');
      expect(health.body.transport).to.equal('custom amqp://***@broker.internal:5672/prod');
      expect(JSON.stringify(health.body)).not.to.contain('S3cr');
    } finally {
      await app.close();
    }
    expect(configFromEnv({ WARREN_HEALTH_PORT: '8080', WARREN_HEALTH_HOST: '0.0.0.0' }).health).to.deep.equal({ port: 8080, host: '0.0.0.0' });
  });

  it('turns unready when a consumer loses its queue and cannot re-attach', async () => {
    const transport = new MemoryTransport();
    const app = await Warren.start({ transport, handlers: [Relay], logger: silentLogger, container: container.createChildContainer() });
    try {
      await transport.deleteQueue('ops.ping');
      await until(() => app.health().consumers[0]!.attached === false);
      expect(app.health().status).to.equal('down');
    } finally {
      await app.close();
    }
  });
});

describe('Configuration', () => {
  it('reads settings from environment variables', () => {
    const config = configFromEnv({ AMQP_URL: 'amqp://a:5672,amqp://b:5672', WARREN_PREFETCH: '50', WARREN_CONCURRENCY: '10', WARREN_RETRY_ATTEMPTS: '4', WARREN_RETRY_BACKOFF: 'exponential', WARREN_RETRY_DELAY_MS: '200' });
    expect(config).to.deep.equal({ url: ['amqp://a:5672', 'amqp://b:5672'], prefetch: 50, concurrency: 10, retry: { attempts: 4, delay: 200, backoff: 'exponential' } });
  });

  it('reads the handler timeout, broker consumer_timeout, redelivery limit and declare settings', () => {
    expect(configFromEnv({ WARREN_HANDLER_TIMEOUT_MS: '60000', WARREN_BROKER_CONSUMER_TIMEOUT_MS: '900000', WARREN_REDELIVERY_LIMIT: '8', WARREN_DECLARE: 'false' }))
      .to.deep.equal({ handlerTimeoutMs: 60_000, brokerConsumerTimeoutMs: 900_000, redeliveryLimit: 8, declare: false });
    expect(configFromEnv({ WARREN_REDELIVERY_LIMIT: 'false' })).to.deep.equal({ redeliveryLimit: false });
    expect(() => configFromEnv({ WARREN_HANDLER_TIMEOUT_MS: '0', WARREN_REDELIVERY_LIMIT: 'never', WARREN_DECLARE: 'no' }))
      .to.throw(ConfigurationError, /WARREN_HANDLER_TIMEOUT_MS[\s\S]*WARREN_REDELIVERY_LIMIT[\s\S]*WARREN_DECLARE/);
    expect(() => assertValidConfig({ handlerTimeoutMs: 2 ** 31, redeliveryLimit: 0, declare: 'no' as never, consumers: { 'A.a': { timeoutMs: 1.5, redeliveryLimit: -1 } } }))
      .to.throw(ConfigurationError, /handlerTimeoutMs must be a whole number from 1 to 2147483647[\s\S]*redeliveryLimit[\s\S]*declare must be true or false[\s\S]*consumers\["A\.a"\]\.timeoutMs[\s\S]*consumers\["A\.a"\]\.redeliveryLimit/);
  });

  it('lists every problem at once', () => {
    try {
      configFromEnv({ WARREN_PREFETCH: 'many', WARREN_RETRY_ATTEMPTS: '0', WARREN_RETRY_BACKOFF: 'random', WARREN_TLS_CA_FILE: '/nonexistent/ca.pem' });
      expect.fail('expected a ConfigurationError');
    } catch (error) {
      expect(error).to.be.instanceOf(ConfigurationError);
      const message = (error as Error).message;
      for (const name of ['WARREN_PREFETCH', 'WARREN_RETRY_ATTEMPTS', 'WARREN_RETRY_BACKOFF', 'WARREN_TLS_CA_FILE']) expect(message).to.contain(name);
    }
  });

  it('refuses an invalid options object at start, naming each field', () => {
    expect(() => assertValidConfig({ prefetch: 2, concurrency: 5, retry: { attempts: 0 }, consumers: { 'Relay.onPing': { prefetch: -1 } } }))
      .to.throw(ConfigurationError, /prefetch \(2\) must be ≥ concurrency \(5\)[\s\S]*retry\.attempts[\s\S]*consumers\["Relay\.onPing"\]\.prefetch/);
  });

  it('applies per-consumer overrides from configuration', async () => {
    const app = await Warren.start({ transport: new MemoryTransport(), handlers: [Relay], logger: silentLogger, container: container.createChildContainer(), consumers: { 'Relay.onPing': { prefetch: 7, concurrency: 3, retry: { attempts: 2, delay: 10 } } } });
    try {
      expect(app.consumers[0]).to.deep.include({ prefetch: 7, concurrency: 3 });
      expect(app.consumers[0]!.retry.attempts).to.equal(2);
    } finally {
      await app.close();
    }
  });

  it('refuses to start on the embedded broker in production', async () => {
    let error: unknown;
    try {
      await Warren.start({ handlers: [Relay], logger: silentLogger, env: { NODE_ENV: 'production' } });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(ConfigurationError);
    expect((error as Error).message).to.contain('AMQP_URL');
  });
});
