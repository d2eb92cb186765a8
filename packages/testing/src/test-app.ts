import { randomUUID } from 'node:crypto';
import { container as rootContainer, type InjectionToken } from 'tsyringe';
import {
  DEAD_LETTER_EXCHANGE, DELAY_LEVELS, delayLevelName, MemoryTransport, readDelayedRoutingKey, routeHop, silentLogger, Warren,
  type DelayHop, type FieldTable, type QueueType, type SettledEvent, type WarrenError, type WarrenOptions,
} from '@warren/core';
import { decodeForInspection, RecordingTransport, type PublishedMessage } from './recording-transport';

/** Replaces a dependency in the test app's container. */
export type Provider<T = unknown> =
  | { provide: InjectionToken<T>; useValue: T }
  | { provide: InjectionToken<T>; useClass: new (...args: never[]) => T }
  | { provide: InjectionToken<T>; useFactory: () => T };

export interface TestAppOptions extends Omit<WarrenOptions, 'url' | 'transport' | 'container'> {
  /** Dependencies to replace (fakes, stubs) before handlers are resolved. */
  providers?: Provider[];
  /** How long `publish()` and `idle()` wait before failing (default 5,000 ms). */
  timeoutMs?: number;
}

/** How a message published through the harness ended. */
export interface MessageOutcome {
  status: 'handled' | 'replied' | 'dead-lettered' | 'rejected' | 'requeued' | 'error-replied';
  /** The consumer that handled it last (`Class.method`). */
  consumer: string;
  /** Delayed retries before the final outcome. */
  retries: number;
  /** The handler's return value (the reply, for requests). */
  result?: unknown;
  /** Why it failed, for dead-lettered / rejected / error-replied messages. */
  error?: WarrenError;
  messageId: string;
}

/** A message sitting in a queue, read without removing it. */
export interface QueuedMessage {
  payload: unknown;
  headers: Record<string, unknown>;
  routingKey: string;
  exchange: string;
}

/**
 * Runs handler classes through Warren's real pipeline on the in-memory broker: decode, validate,
 * DI, retries and dead-lettering behave as in production; only the transport is swapped.
 *
 * @example
 * ```ts
 * const t = await TestApp.create({ handlers: [Billing], providers: [{ provide: Ledger, useValue: fakeLedger }] });
 * const outcome = await t.publish('orders', 'order.created', { orderId: 'not-a-uuid', items: [] });
 * expect(outcome.status).to.equal('dead-lettered');
 * expect(outcome.error?.code).to.equal('VALIDATION_FAILED');
 * await t.close();
 * ```
 */
export class TestApp {
  private readonly waiting = new Map<string, { resolve(o: MessageOutcome): void; retries: number }>();
  private readonly finished = new Map<string, MessageOutcome>();
  private readonly retryCounts = new Map<string, number>();

  private constructor(readonly app: Warren, readonly transport: RecordingTransport, private readonly timeoutMs: number, private readonly queueType: QueueType) {}

  static async create(options: TestAppOptions = {}): Promise<TestApp> {
    const { providers = [], timeoutMs = 5000, ...rest } = options;
    const container = rootContainer.createChildContainer();
    for (const p of providers) {
      if ('useValue' in p) container.register(p.provide, { useValue: p.useValue });
      else if ('useClass' in p) container.register(p.provide, { useClass: p.useClass as never });
      else container.register(p.provide, { useFactory: p.useFactory });
    }
    const transport = new RecordingTransport(new MemoryTransport());
    let harness: TestApp | undefined;
    const pending: SettledEvent[] = [];
    const app = await Warren.start({
      logger: silentLogger,
      ...rest,
      transport,
      container,
      onSettled: (event) => {
        rest.onSettled?.(event);
        if (harness) harness.settled(event);
        else pending.push(event);
      },
    });
    harness = new TestApp(app, transport, timeoutMs, rest.queueType ?? 'classic');
    pending.forEach((e) => harness!.settled(e));
    return harness;
  }

  private settled(event: SettledEvent): void {
    const id = event.messageId;
    if (!id) return;
    if (event.outcome === 'retried') {
      this.retryCounts.set(id, (this.retryCounts.get(id) ?? 0) + 1);
      return;
    }
    const outcome: MessageOutcome = {
      status: event.outcome, consumer: event.consumer, retries: this.retryCounts.get(id) ?? 0,
      result: event.result, error: event.error, messageId: id,
    };
    const waiter = this.waiting.get(id);
    if (waiter) {
      this.waiting.delete(id);
      waiter.resolve(outcome);
    } else {
      this.finished.set(id, outcome);
    }
  }

  /** Resolves a class (a publisher, a fake) from the test app's container. */
  get<T>(token: InjectionToken<T>): T {
    return this.app.get(token);
  }

  /**
   * Publishes a payload (JSON-encoded unless a Buffer or string) and resolves with its final
   * outcome, after any delayed retries. Rejects if no consumer settles it within the timeout.
   */
  async publish(exchange: string, routingKey: string, payload: unknown, options: { headers?: FieldTable; contentType?: string; messageId?: string } = {}): Promise<MessageOutcome> {
    const messageId = options.messageId ?? randomUUID();
    const outcome = new Promise<MessageOutcome>((resolve, reject) => {
      const done = this.finished.get(messageId);
      if (done) return resolve(done);
      const timer = setTimeout(() => {
        this.waiting.delete(messageId);
        reject(new Error(`No consumer settled message ${messageId} (exchange "${exchange}", routing key "${routingKey}") within ${this.timeoutMs} ms. Is a @Consumer bound to it?`));
      }, this.timeoutMs);
      this.waiting.set(messageId, { resolve: (o) => { clearTimeout(timer); resolve(o); }, retries: 0 });
    });
    await this.app.publish(exchange, routingKey, payload, { headers: options.headers, contentType: options.contentType, messageId });
    return outcome;
  }

  /**
   * Messages published by the code under test (and the harness), optionally filtered. A delayed
   * send is listed by its destination, with its `delayMs`; Warren's own retries are not listed.
   */
  published(filter: { exchange?: string; routingKey?: string } = {}): PublishedMessage[] {
    return this.transport.published.map((m) => this.asSent(m)).filter((m): m is PublishedMessage => m !== undefined && (
      (filter.exchange === undefined || m.exchange === filter.exchange) && (filter.routingKey === undefined || m.routingKey === filter.routingKey)
      && m.exchange !== DEAD_LETTER_EXCHANGE
      // A copy Warren put back for a handler's requeue() is not something the code under test published.
      && m.message.properties.headers?.['x-warren-requeues'] === undefined));
  }

  /** A delayed send by its destination; undefined for a retry (Warren's, not the code's). */
  private asSent(m: PublishedMessage): PublishedMessage | undefined {
    const delayed = m.exchange.startsWith('warren.delay.') ? readDelayedRoutingKey(m.routingKey) : undefined;
    if (!delayed) return m;
    const hop = this.routeHops().get(delayed.hopId);
    return hop ? { ...m, exchange: hop.exchange, routingKey: hop.routingKey, delayMs: delayed.delayMs } : undefined;
  }

  private routeHops(): Map<string, DelayHop> {
    const hops = new Map<string, DelayHop>();
    for (const plan of this.app.publishers) {
      for (const { route } of plan.routes) {
        const hop = routeHop(plan.exchange.name, route.routingKey, this.queueType);
        hops.set(hop.id, hop);
      }
    }
    return hops;
  }

  /** What sits in a queue now, oldest first; the messages stay where they are. */
  async messages(queue: string): Promise<QueuedMessage[]> {
    const taken = [];
    for (let m = await this.transport.get(queue); m; m = await this.transport.get(queue)) taken.push(m);
    const out = taken.map((m) => ({ payload: decodeForInspection(m), headers: { ...m.properties.headers }, routingKey: m.routingKey, exchange: m.exchange }));
    for (const m of taken.reverse()) await m.nack(true);
    return out;
  }

  /** The dead letters of a consumer's queue (`<queue>.dlq` unless configured otherwise). */
  async deadLetters(consumerQueue: string): Promise<QueuedMessage[]> {
    const plan = this.app.consumers.find((c) => c.queue === consumerQueue);
    const dlq = plan?.deadLetter.queue ?? `${consumerQueue}.dlq`;
    return this.messages(dlq);
  }

  /**
   * Waits until no handler runs and every consumer queue and the delay cascade are empty: retries
   * and delayed sends still waiting count as work (so a long delay makes `idle()` time out).
   */
  async idle(): Promise<void> {
    const deadline = Date.now() + this.timeoutMs;
    // A stream keeps its messages after they are read: its count says nothing about idleness. Its
    // reader takes new messages at once (prefetch allowing), so running handlers tell instead.
    const types = new Set<QueueType>([this.queueType, ...this.app.consumers.flatMap((c) => (c.retryHop ? [c.retryHop.queueType] : []))]);
    const cascade = [...types].flatMap((type) => Array.from({ length: DELAY_LEVELS }, (_, level) => delayLevelName(type, level)));
    const queues = [...this.app.consumers.flatMap((c) => (c.queueType === 'stream' ? [] : [c.queue, ...(c.retryHop ? [c.retryHop.name] : [])])), ...cascade];
    // Two quiet looks in a row: a message between dequeue and handler start is seen by neither count.
    for (let quiet = 0; quiet < 2;) {
      await new Promise((resolve) => setTimeout(resolve, 2));
      const counts = await Promise.all(queues.map((q) => this.transport.inspectQueue(q).then((i) => i.messageCount, () => 0)));
      quiet = this.transport.inFlight === 0 && counts.every((c) => c === 0) ? quiet + 1 : 0;
      if (quiet < 2 && Date.now() > deadline) throw new Error(`The test app was not idle within ${this.timeoutMs} ms.`);
    }
  }

  async close(): Promise<void> {
    await this.app.close();
  }
}
