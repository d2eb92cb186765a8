import { randomUUID } from 'node:crypto';
import { container as rootContainer, type DependencyContainer, type InjectionToken } from 'tsyringe';
import { CodecRegistry, jsonCodec, type Codec } from './codec';
import { encodeContent, isContentEncoding, type ContentEncoding } from './content-encoding';
import { DEFAULT_CONSUMER_SETTINGS, planConsumer, type ConsumerDefaults, type ConsumerPlan } from './consumer-plan';
import { createHandlerResolver } from './handler-resolver';
import { guardRedeliveries } from './redelivery-guard';
import { prepareTopology, publisherExchange, readyPublisherExchange } from './passive-topology';
import { warnAboutConsumerTimeouts } from './handler-timeout';
import { ConfigurationError } from './errors';
import { defaultLogger, type Logger } from './logger';
import { getConsumers, getPublisher, type Class, type PublisherDefinition } from './metadata';
import { assertValidConfig, type WarrenConfig } from './config';
import { startHealthServer, type HealthReport } from './health-server';
export type { HealthReport } from './health-server';
import type { Server } from 'node:http';
import { assertConsumerLimits } from './limits';
import { FailureRouter } from './outcome';
import { redactText } from './redact';
import { createDeliveryHandler, type ConsumeMiddleware, type SettledEvent } from './pipeline';
import { createBoundPublisher, planPublisher, publishThrough, type PublisherPlan, type PublishingDeps, type PublishMiddleware } from './publishing';
import { DelayedDelivery, prepareRetryCascades } from './scheduling';
import { createTelemetry } from './telemetry';
import { collectClasses, withOverrides } from './collect';
import { createQueueHandler, subscribeQueue } from './dispatch';
import { groupConsumers } from './queue-groups';
import { planAppTopology, type AppTopologyPlan } from './exchange-bindings';
import { declareAppTopology, knownExchanges } from './app-topology';
import { assertSingleCopy } from './copies';
import { assertExchangeTypes, assertStartable } from './start-checks';
import { recordedStart } from './introspection';
import { runUntilSignalled } from './signals';
import type { FieldTable, OutgoingMessage, Subscription, Transport } from './transport';
import { createTransport, loggedTransportEvents } from './transport-setup';
import { StreamReaders } from './stream-readers';
import type { StreamReplayOptions, StreamReplayReport } from './stream-replay';
import type { WarrenOptions } from './warren-options';
export type { WarrenOptions } from './warren-options';

/**
 * A running Warren service: consumers attached, publishers bound.
 *
 * @example
 * ```ts
 * const app = await Warren.start({ url: process.env.AMQP_URL, handlers: [Billing] });
 * await app.get(OrderEvents).created({ orderId, items: [] });
 * await app.close();
 * ```
 */
export class Warren {
  private closing?: Promise<void>;
  private lastError?: string;
  private healthServer?: Server;
  private stopped = false;
  private markStopped!: () => void;
  /** Settles once `close()` has finished. */
  readonly whenClosed: Promise<void> = new Promise((resolve) => { this.markStopped = resolve; });

  private constructor(
    /** The broker transport in use. */
    readonly transport: Transport,
    /** The container handlers and publishers are resolved from. */
    readonly container: DependencyContainer,
    /** Every consumer with names resolved and defaults applied. */
    readonly consumers: readonly ConsumerPlan[],
    private readonly publisherPlans: PublisherPlan[],
    private readonly subscriptions: Map<string, Subscription>,
    readonly logger: Logger,
    private readonly shutdownTimeoutMs: number,
    private readonly publishing: PublishingDeps,
    /** The app-wide `declare` setting, for publishers bound after start. */
    private readonly declareTopology: boolean,
    /** Exchange-to-exchange bindings and the extra exchanges of `WarrenOptions.topology`, as declared at start. */
    readonly topology: AppTopologyPlan,
    private readonly streams: StreamReaders,
  ) {}

  /** Every bound publisher class with its exchange resolved. */
  get publishers(): readonly PublisherPlan[] {
    return this.publisherPlans;
  }

  /**
   * Scans the handler classes, declares their topology, binds publishers and starts consuming.
   * Fails fast, naming the class and method, on conflicting or incomplete declarations.
   */
  static async start(options: WarrenOptions = {}): Promise<Warren> {
    // Under a tool reading the decorators (warren asyncapi/topology), record and never run.
    const recorded = recordedStart(options);
    if (recorded) return recorded;
    assertSingleCopy();
    assertValidConfig(options);
    const env = options.env ?? process.env;
    const logger = options.logger ?? defaultLogger({ name: options.name, env });
    const collected = collectClasses(options);
    const base = DEFAULT_CONSUMER_SETTINGS;
    const defaults: ConsumerDefaults = {
      prefetch: options.prefetch ?? base.prefetch,
      concurrency: options.concurrency ?? base.concurrency,
      retry: options.retry ?? base.retry,
      validation: options.validation ?? base.validation,
      maxBodyBytes: options.maxBodyBytes ?? base.maxBodyBytes,
      queueType: options.queueType ?? base.queueType,
      timeoutMs: options.handlerTimeoutMs ?? base.timeoutMs,
      redeliveryLimit: options.redeliveryLimit ?? base.redeliveryLimit,
      declare: options.declare ?? base.declare,
    };
    const consumers = collected.handlers.flatMap((h) => getConsumers(h).map((d) => planConsumer(withOverrides(d, options.consumers), defaults, env)));
    consumers.forEach(assertConsumerLimits);
    const groups = groupConsumers(consumers);
    const publishers = collected.publishers.map((p) => planPublisher(getPublisher(p)!, env));
    assertStartable(consumers, publishers);
    const appDeclares = options.declare ?? true;
    const publisherExchanges = publishers.map((p) => publisherExchange(getPublisher(p.publisherClass)!, p, appDeclares));
    const appTopology = planAppTopology(options.topology, publishers.map((p, i) => ({ neededBy: p.publisherClass.name, bindings: p.bindings, declare: publisherExchanges[i]!.declare })), appDeclares, env);

    const subscriptions = new Map<string, Subscription>();
    let app: Warren | undefined;
    const events = loggedTransportEvents(logger, (message) => { if (app) app.lastError = message; });
    const transport = options.transport ?? createTransport(options, env, logger, events);
    const container = (options.container ?? rootContainer).createChildContainer();
    const codecs = new CodecRegistry(options.codecs);
    const telemetry = options.telemetry === false ? undefined : createTelemetry(options.name);
    const consumeMiddleware = [...(telemetry ? [telemetry.consume] : []), ...(options.middleware?.consume ?? [])];
    const publishMiddleware = [...(telemetry ? [telemetry.publish] : []), ...(options.middleware?.publish ?? [])];
    // One debug line per message outcome (WARREN_LOG_LEVEL=debug), then telemetry and the caller's hook.
    const onSettled = (event: SettledEvent) => {
      logger.debug(`message ${event.outcome}`, { consumer: event.consumer, messageId: event.messageId, attempt: event.attempt, code: event.error?.code, delayMs: event.delayMs });
      telemetry?.settled(event);
      options.onSettled?.(event);
    };
    const wait = options.waitForBroker === true;
    try {
      if (!wait) await transport.connect();
      // Waiting for the broker: a publish waits (up to its timeout) until its exchange is declared.
      let markDeclared: (() => void) | undefined;
      const declared = wait ? new Promise<void>((resolve) => { markDeclared = resolve; }) : undefined;
      const publishing: PublishingDeps = {
        transport, codecs, env, validation: options.validation ?? {},
        publishTimeoutMs: options.publishTimeoutMs ?? 10_000,
        requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
        maxReplyBytes: defaults.maxBodyBytes,
        appId: options.name,
        middleware: publishMiddleware,
        declared,
        delays: { delivery: new DelayedDelivery(transport), queueType: defaults.queueType, declare: defaults.declare },
      };
      for (const plan of publishers) {
        container.registerInstance(plan.publisherClass, createBoundPublisher(getPublisher(plan.publisherClass)!, plan, publishing));
      }
      const failures = new FailureRouter(transport, logger);
      const resolveHandler = createHandlerResolver(container);
      const pipeline = { codecs, transport, failures, logger, middleware: consumeMiddleware, resolveHandler, onSettled };
      const streams = new StreamReaders(options.offsetStore, pipeline, transport.description !== 'memory' && options.consume !== false, consumers);
      app = new Warren(transport, container, consumers, publishers, subscriptions, logger, options.shutdownTimeoutMs ?? 30_000, publishing, appDeclares, appTopology, streams);
      const handlers = new Map(consumers.map((plan) => {
        if (plan.scope === 'app') resolveHandler(plan, undefined as never); // fail at start if a dependency is missing
        return [plan, guardRedeliveries(plan, { transport, failures, logger, onSettled }, createDeliveryHandler(plan, { ...pipeline, streamReader: streams.readerFor(plan) }))];
      }));
      // One subscription per queue: a queue several methods share dispatches each delivery to one of them.
      const queueHandlers = groups.map((group) => createQueueHandler(group, handlers, { transport, failures, logger, onSettled }));
      /** Everything that needs the broker: publisher exchanges, exchange-to-exchange bindings, then each queue's topology and subscription. */
      const attach = async () => {
        await prepareTopology(transport, consumers, publisherExchanges);
        await declareAppTopology(transport, appTopology, knownExchanges(consumers, publisherExchanges));
        await prepareRetryCascades(publishing.delays!.delivery, consumers);
        markDeclared?.();
        for (const [i, group] of groups.entries()) {
          if (options.consume === false) break;
          await streams.open(group.consumers[0]!);
          await subscribeQueue(transport, group, queueHandlers[i]!, subscriptions, streams.subscribeOptions(group.consumers[0]!));
        }
        logger.info('warren started', { transport: transport.description, consumers: consumers.map((c) => `${c.id} ← ${c.queue}`), publishers: publishers.map((p) => p.publisherClass.name) });
      };
      if (!wait) await attach();
      if (options.health) app.healthServer = await startHealthServer(() => app!.health(), options.health);
      warnAboutConsumerTimeouts(consumers, options.brokerConsumerTimeoutMs, logger);
      for (const plan of consumers) {
        if (plan.validator && !plan.validator.compiled) logger.info('payload validated by class-validator (not compiled)', { consumer: plan.id, reason: plan.validator.fallbackReason });
      }
      if (wait) app.waitForBroker(attach);
      return app;
    } catch (error) {
      await transport.close().catch(() => undefined);
      throw error;
    }
  }

  /**
   * Starts the app and closes it gracefully on SIGINT / SIGTERM (a second signal exits at once).
   *
   * @example
   * ```ts
   * Warren.run({ handlers: [Billing] });
   * ```
   */
  static run(options: WarrenOptions = {}): Promise<Warren> {
    return runUntilSignalled(() => Warren.start(options));
  }

  /**
   * `waitForBroker`: connects without a deadline in the background (the health report says `down`
   * meanwhile), then attaches. A failure that waiting cannot cure (refused credentials, a peer that
   * is not AMQP, a refused declaration) is logged and kept as `lastError`; the app stays unready.
   */
  private waitForBroker(attach: () => Promise<void>): void {
    this.logger.info('waiting for the broker', { transport: this.transport.description });
    this.transport.connect(Number.POSITIVE_INFINITY).then(attach).catch((error: Error) => {
      if (this.closing) return;
      this.lastError = error.message;
      this.logger.error('could not start on the broker', { error: error.message });
    });
  }

  /** Where the health endpoint listens (with `health: { port }`), e.g. to read the port chosen for port 0. */
  get healthAddress(): ReturnType<Server['address']> | undefined {
    return this.healthServer?.address();
  }

  /** Resolves a class (a publisher, a service) from the app's container. */
  get<T>(token: InjectionToken<T>): T {
    if (typeof token === 'function' && !this.container.isRegistered(token, true)) {
      const definition = getPublisher(token);
      // A publisher no handler injects: bind it now; its exchange is declared before its first send.
      if (definition) this.bindPublisher(definition);
    }
    return this.container.resolve(token);
  }

  private bindPublisher(definition: PublisherDefinition): void {
    const plan = planPublisher(definition, this.publishing.env);
    assertExchangeTypes([], [plan]);
    const target = publisherExchange(definition, plan, this.declareTopology);
    const bindings = planAppTopology(undefined, [{ neededBy: target.neededBy, bindings: plan.bindings, declare: target.declare }], this.declareTopology, this.publishing.env);
    const declared = readyPublisherExchange(this.transport, target).then(() => declareAppTopology(this.transport, bindings, [target.exchange]));
    declared.catch((error: Error) => this.logger.error(target.declare ? 'could not declare a publisher exchange' : 'a publisher exchange is missing (declare: false)', { exchange: plan.exchange.name, error: error.message }));
    this.container.registerInstance(definition.publisherClass, createBoundPublisher(definition, plan, { ...this.publishing, declared }));
    this.publisherPlans.push(plan);
    this.logger.info('publisher bound', { publisher: definition.publisherClass.name, exchange: plan.exchange.name });
  }

  /**
   * Publishes a JSON (or Buffer / string) payload without a publisher class: for scripts, tests and
   * bridges. Confirmed; `mandatory` reports unroutable messages; `compress` sends it gzip / deflate encoded;
   * `type` sets the AMQP type property (what consumers sharing a queue dispatch on).
   */
  async publish(exchange: string, routingKey: string, payload: unknown, options: { headers?: FieldTable; mandatory?: boolean; contentType?: string; messageId?: string; correlationId?: string; compress?: ContentEncoding; type?: string } = {}): Promise<void> {
    const encoded = Buffer.isBuffer(payload) ? payload : typeof payload === 'string' ? Buffer.from(payload, 'utf8') : jsonCodec.encode(payload);
    const contentType = options.contentType ?? (Buffer.isBuffer(payload) ? 'application/octet-stream' : typeof payload === 'string' ? 'text/plain' : 'application/json');
    if (options.compress !== undefined && !isContentEncoding(options.compress)) throw new ConfigurationError('compress must be "gzip" or "deflate".');
    const body = options.compress ? encodeContent(encoded, options.compress) : encoded;
    const message: OutgoingMessage = {
      exchange, routingKey, body, mandatory: options.mandatory,
      properties: { contentType, contentEncoding: options.compress, headers: options.headers, deliveryMode: 2, messageId: options.messageId ?? randomUUID(), correlationId: options.correlationId, timestamp: Math.floor(Date.now() / 1000), type: options.type },
    };
    return publishThrough(this.publishing.middleware, message, (m) => this.transport.publish(m));
  }

  /**
   * Reads a stream consumer's stream again from `since` through its handler, as a second reader
   * (its stored offset is left alone), up to `until` (default: what it has processed). docs/streams.md.
   *
   * @example
   * ```ts
   * const report = await app.replay('AuditLog.record', { since: '2h' });
   * ```
   */
  replay(consumer: string, options: StreamReplayOptions): Promise<StreamReplayReport> {
    return this.streams.replay(this.consumers, consumer, options);
  }

  /** Connection and consumer state, for probes and dashboards. */
  health(): HealthReport {
    const consumers = this.consumers.map((c) => ({ consumer: c.id, queue: c.queue, attached: this.subscriptions.get(c.id)?.attached ?? false }));
    const connected = this.transport.connected;
    // An exchange Warren declared that is gone and could not be declared again: publishes fail.
    const publishProblem = this.transport.publishProblem;
    return {
      status: this.stopped ? 'closed' : !this.closing && connected && !publishProblem && consumers.every((c) => c.attached) ? 'up' : 'down',
      // Probes are often reachable by more people than logs: nothing URL-shaped keeps its userinfo.
      transport: redactText(this.transport.description, []),
      connected,
      consumers,
      lastError: (publishProblem ?? this.lastError) === undefined ? undefined : redactText((publishProblem ?? this.lastError)!, []),
    };
  }

  /**
   * Stops consuming, waits up to `shutdownTimeoutMs` for running handlers (their messages are then
   * acked or retried as usual), then closes publishers and the connection. Messages prefetched but
   * not started go back to the queue. At the deadline whatever is still open is destroyed: handlers
   * still running lose their messages back to the queue (redelivered later), and `close()` resolves
   * within `shutdownTimeoutMs` + 1 s whatever the handlers or the broker do. Safe to call twice.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const started = Date.now();
      // Stream readers first: in-process retry pauses end, so handlers drain at once.
      this.streams.stop();
      // The transport destroys its channels at the deadline; the race only guards a custom transport that does not.
      const closed = await within(this.transport.close({ timeoutMs: this.shutdownTimeoutMs }).then(() => true, () => true), this.shutdownTimeoutMs + 1_000);
      if (!closed || Date.now() - started >= this.shutdownTimeoutMs) this.logger.warn('handlers still running at the shutdown timeout; their messages will be redelivered', { timeoutMs: this.shutdownTimeoutMs });
      await this.streams.flush(OFFSET_FLUSH_MS);
      await closeServer(this.healthServer);
      this.stopped = true;
      this.markStopped();
      this.logger.info('warren stopped');
    })();
    return this.closing;
  }
}

/** How long `close()` waits for the offset store to take each stream consumer's last offset. */
const OFFSET_FLUSH_MS = 2_000;

/** Resolves with the promise's value, or with false after `ms`. */
function within(promise: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise, new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), ms); })]).finally(() => clearTimeout(timer));
}

/** Closes the health endpoint, cutting probes' keep-alive connections (server.close alone waits for them). */
function closeServer(server: Server | undefined): Promise<void> {
  if (!server) return Promise.resolve();
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
