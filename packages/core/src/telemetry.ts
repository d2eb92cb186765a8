import { context, metrics, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type TextMapGetter, type TextMapSetter } from '@opentelemetry/api';
import type { ConsumeMiddleware, SettledEvent } from './pipeline';
import type { PublishMiddleware } from './publishing';
import type { FieldTable } from './transport';

/**
 * OpenTelemetry instrumentation through `@opentelemetry/api` only: the application registers its
 * SDK (tracer and meter providers, W3C propagator); without one, every call here is a no-op.
 * Spans follow the messaging semantic conventions; trace context travels in message headers
 * (`traceparent`, `tracestate`), so a trace spans services — including non-Warren ones that
 * read W3C headers.
 */
export interface Telemetry {
  consume: ConsumeMiddleware;
  publish: PublishMiddleware;
  settled(event: SettledEvent): void;
}

const headerGetter: TextMapGetter<FieldTable> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key];
    return typeof value === 'string' ? value : Buffer.isBuffer(value) ? value.toString('utf8') : undefined;
  },
};

const headerSetter: TextMapSetter<FieldTable> = {
  set: (carrier, key, value) => { carrier[key] = value; },
};

/** Creates Warren's tracing and metrics; `Warren.start()` installs it unless `telemetry: false`. */
export function createTelemetry(serviceName = 'warren'): Telemetry {
  const tracer = trace.getTracer('@warren/core');
  const meter = metrics.getMeter('@warren/core');
  const consumed = meter.createCounter('warren.messages.consumed', { description: 'Messages handled successfully' });
  const failed = meter.createCounter('warren.messages.failed', { description: 'Messages whose handling failed (any outcome)' });
  const retried = meter.createCounter('warren.messages.retried', { description: 'Messages scheduled for a delayed retry' });
  const deadLettered = meter.createCounter('warren.messages.dead_lettered', { description: 'Messages sent to a dead-letter queue' });
  const handlerDuration = meter.createHistogram('warren.handler.duration', { unit: 's', description: 'Handler run time, middleware included' });
  const publishDuration = meter.createHistogram('warren.publish.duration', { unit: 's', description: 'Time from publish to broker confirm' });

  const consume: ConsumeMiddleware = async (call, next) => {
    const ctx = call.context;
    // Without a registered propagator there is nothing to extract (fields() is empty): skip the work.
    const parent = propagation.fields().length && Object.keys(ctx.headers).length ? propagation.extract(ROOT_CONTEXT, ctx.headers as FieldTable, headerGetter) : ROOT_CONTEXT;
    const span = tracer.startSpan(`process ${ctx.exchange || ctx.queue}`, { kind: SpanKind.CONSUMER }, parent);
    // Attributes only for a span that records: without an SDK the span is a no-op, and building
    // ten attributes per message was a measurable share of Warren's per-message cost.
    if (span.isRecording()) span.setAttributes(consumeAttributes(call));
    const start = performance.now();
    try {
      return await context.with(trace.setSpan(parent, span), next);
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message });
      throw error;
    } finally {
      handlerDuration.record((performance.now() - start) / 1000, { 'messaging.consumer.group.name': ctx.queue, 'warren.consumer': call.consumer });
      span.end();
    }
  };

  const publish: PublishMiddleware = async (message, next) => {
    const span = tracer.startSpan(`publish ${message.exchange || message.routingKey}`, { kind: SpanKind.PRODUCER });
    if (span.isRecording()) span.setAttributes(publishAttributes(message, serviceName));
    // Copy and inject headers only when a propagator is registered (it lists the fields it writes).
    if (propagation.fields().length) {
      const headers: FieldTable = { ...message.properties.headers };
      propagation.inject(trace.setSpan(context.active(), span), headers, headerSetter);
      message.properties = { ...message.properties, headers };
    }
    const start = performance.now();
    try {
      await next();
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message });
      throw error;
    } finally {
      publishDuration.record((performance.now() - start) / 1000, { 'messaging.destination.name': message.exchange });
      span.end();
    }
  };

  const settled = (event: SettledEvent) => {
    const attributes = { 'messaging.consumer.group.name': event.queue, 'warren.consumer': event.consumer };
    if (event.outcome === 'handled' || event.outcome === 'replied') {
      consumed.add(1, attributes);
      return;
    }
    failed.add(1, { ...attributes, 'error.type': event.error?.code ?? 'unknown' });
    if (event.outcome === 'retried') retried.add(1, attributes);
    else if (event.outcome === 'dead-lettered') deadLettered.add(1, { ...attributes, 'error.type': event.error?.code ?? 'unknown' });
  };

  return { consume, publish, settled };
}

function consumeAttributes(call: Parameters<ConsumeMiddleware>[0]): Attributes {
  const ctx = call.context;
  const attributes: Attributes = {
    'messaging.system': 'rabbitmq',
    'messaging.operation.type': 'process',
    'messaging.operation.name': 'process',
    'messaging.destination.name': ctx.exchange,
    'messaging.rabbitmq.destination.routing_key': ctx.routingKey,
    'messaging.consumer.group.name': ctx.queue,
    'warren.consumer': call.consumer,
    'warren.attempt': ctx.attempt,
  };
  if (ctx.messageId) attributes['messaging.message.id'] = ctx.messageId;
  if (ctx.correlationId) attributes['messaging.message.conversation_id'] = ctx.correlationId;
  return attributes;
}

function publishAttributes(message: Parameters<PublishMiddleware>[0], serviceName: string): Attributes {
  const attributes: Attributes = {
    'messaging.system': 'rabbitmq',
    'messaging.operation.type': 'send',
    'messaging.operation.name': 'publish',
    'messaging.destination.name': message.exchange,
    'messaging.rabbitmq.destination.routing_key': message.routingKey,
    'service.name': serviceName,
  };
  if (message.properties.messageId) attributes['messaging.message.id'] = message.properties.messageId;
  if (message.properties.correlationId) attributes['messaging.message.conversation_id'] = message.properties.correlationId;
  return attributes;
}
