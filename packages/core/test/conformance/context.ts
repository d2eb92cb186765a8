import type { Delivery, FieldTable, OutgoingMessage, PublishOptions, QueueSpec, Settlement, SubscribeOptions, Subscription, Topology, Transport } from '../../src/transport';
import { uniqueName } from '../support/broker';

/** A name of the delay cascade every Warren app on a vhost shares (not a hop, which belongs to one destination). */
export function isSharedDelayName(name: string): boolean {
  return /^warren\.delay\.((classic|quorum)\.\d\d|deliver|unroutable)$/.test(name);
}
import { settleWithin } from '../support/cleanup';

/**
 * A fixture queue: durable and explicitly classic. Durable (or exclusive), because RabbitMQ 4.x
 * refuses transient non-exclusive queues where `transient_nonexcl_queues` is not permitted, as
 * managed brokers set it; classic, because a vhost may default to quorum queues, whose semantics
 * differ from what this suite specifies (docs/brokers.md). Cleanup deletes it either way.
 */
export function classicQueue(name: string, args: FieldTable = {}, flags: Omit<QueueSpec, 'name' | 'arguments'> = {}): QueueSpec {
  return { name, durable: true, ...flags, arguments: { 'x-queue-type': 'classic', ...args } };
}

/**
 * What every conformance test works with: one transport per suite, unique names, and cleanup of
 * everything a test declared or subscribed, so the suite can run against a shared RabbitMQ.
 */
export class ConformanceContext {
  private shared: Transport | undefined;
  private readonly extraTransports: Transport[] = [];
  private readonly queues = new Set<string>();
  private readonly exchanges = new Set<string>();
  private readonly subscriptions: Subscription[] = [];
  private readonly gates: Gate[] = [];

  constructor(private readonly factory: () => Promise<Transport>) {}

  get transport(): Transport {
    if (!this.shared) throw new Error('The conformance transport is not open; is the test inside defineConformanceSuite?');
    return this.shared;
  }

  async open(): Promise<void> {
    this.shared = await this.factory();
    await this.shared.connect();
  }

  async close(): Promise<void> {
    await this.shared?.close();
    this.shared = undefined;
  }

  /** A second transport, closed after the test (for tests that close one). */
  async newTransport(): Promise<Transport> {
    const transport = await this.factory();
    await transport.connect();
    this.extraTransports.push(transport);
    return transport;
  }

  name(prefix: string): string {
    return uniqueName(prefix);
  }

  /**
   * A gate for handlers to wait on, opened by cleanup at the latest: a test that fails before it
   * opens its gate must not leave handlers running that a subscription's close() would wait for.
   */
  gate(): Gate {
    const gate = new Gate();
    this.gates.push(gate);
    return gate;
  }

  /** Declares on the shared transport and remembers the names for cleanup. */
  async declare(topology: Topology, transport = this.transport): Promise<void> {
    this.track(topology);
    await transport.declare(topology);
  }

  /**
   * Remembers the names of a topology declared some other way (by subscribe(), for instance). The
   * delay cascade's shared names (`warren.delay.<type>.<NN>`, `.deliver`, `.unroutable`) belong to
   * every app on the vhost, other test runs included: they are never deleted.
   */
  track(topology: Topology): void {
    for (const q of topology.queues ?? []) if (!isSharedDelayName(q.name)) this.queues.add(q.name);
    for (const e of topology.exchanges ?? []) if (!isSharedDelayName(e.name)) this.exchanges.add(e.name);
  }

  async subscribe(options: SubscribeOptions, handler: (delivery: Delivery) => Promise<Settlement>, transport = this.transport): Promise<Subscription> {
    if (options.topology) this.track(options.topology);
    const subscription = await transport.subscribe(options, handler);
    this.subscriptions.push(subscription);
    return subscription;
  }

  publish(exchange: string, routingKey: string, text: string, extra: Partial<OutgoingMessage> = {}, options?: PublishOptions): Promise<void> {
    return this.transport.publish({ exchange, routingKey, body: Buffer.from(text), properties: {}, ...extra }, options);
  }

  /** Takes every ready message from a queue with basic.get, acknowledging each. */
  async drain(queue: string): Promise<Delivery[]> {
    const taken: Delivery[] = [];
    for (let message = await this.transport.get(queue); message; message = await this.transport.get(queue)) {
      await message.ack();
      taken.push(message);
    }
    return taken;
  }

  /** The bodies of every ready message of a queue, as text, oldest first. */
  async drainBodies(queue: string): Promise<string[]> {
    return (await this.drain(queue)).map((d) => d.body.toString());
  }

  /**
   * Takes messages from a queue until at least `count` came, polling, then whatever else is ready;
   * returns what it has after `timeoutMs` (the test's assertion then shows what is missing). For
   * messages the broker moves asynchronously: RabbitMQ 4.x may dead-letter an overflowing message a
   * few milliseconds after confirming the publish that caused it.
   */
  async drainAtLeast(queue: string, count: number, timeoutMs = 5000): Promise<Delivery[]> {
    const taken: Delivery[] = [];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      taken.push(...await this.drain(queue));
      if (taken.length >= count || Date.now() > deadline) return taken;
      await sleep(10);
    }
  }

  /** {@link drainAtLeast}, as text bodies. */
  async drainBodiesAtLeast(queue: string, count: number, timeoutMs?: number): Promise<string[]> {
    return (await this.drainAtLeast(queue, count, timeoutMs)).map((d) => d.body.toString());
  }

  /**
   * Undoes what the test did: opens its gates, closes its subscriptions and extra transports, deletes
   * its queues and exchanges. Each step has a deadline (support/cleanup.ts): a cleanup that fails or
   * hangs is logged and abandoned, so it cannot take the rest of the suite down with it.
   */
  async cleanup(): Promise<void> {
    for (const gate of this.gates.splice(0)) gate.open();
    const subscriptions = this.subscriptions.splice(0);
    await settleWithin('close the subscriptions', () => settleAll(subscriptions.map((s) => s.close())), 5000);
    const transports = this.extraTransports.splice(0);
    await settleWithin('close the extra transports', () => settleAll(transports.map((t) => t.close())), 5000);
    const transport = this.shared;
    const queues = [...this.queues];
    const exchanges = [...this.exchanges];
    this.queues.clear();
    this.exchanges.clear();
    if (!transport) return;
    await settleWithin(`delete ${queues.length} queue(s) and ${exchanges.length} exchange(s)`, async () => {
      for (const queue of queues) await transport.deleteQueue(queue).catch(() => undefined);
      for (const exchange of exchanges) await transport.deleteExchange(exchange).catch(() => undefined);
    }, 5000);
  }
}

/**
 * Records deliveries for a subscription and lets a test wait for a number of them. The settlement
 * defaults to 'ack'; `settle` may decide per delivery (index counts from 0).
 */
export class DeliveryLog {
  readonly deliveries: Delivery[] = [];
  private waiters: Array<{ count: number; resolve(): void }> = [];

  constructor(private readonly settle: (delivery: Delivery, index: number) => Settlement | Promise<Settlement> = () => 'ack') {}

  readonly handler = async (delivery: Delivery): Promise<Settlement> => {
    const index = this.deliveries.push(delivery) - 1;
    this.waiters = this.waiters.filter((w) => (w.count <= this.deliveries.length ? (w.resolve(), false) : true));
    return this.settle(delivery, index);
  };

  get bodies(): string[] {
    return this.deliveries.map((d) => d.body.toString());
  }

  /** Resolves once `count` deliveries have arrived; rejects after `timeoutMs` saying how many did. */
  async waitFor(count: number, timeoutMs = 3000): Promise<Delivery[]> {
    if (this.deliveries.length < count) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`expected ${count} deliveries within ${timeoutMs} ms, got ${this.deliveries.length}: ${JSON.stringify(this.bodies)}`)), timeoutMs);
        this.waiters.push({ count, resolve: () => { clearTimeout(timer); resolve(); } });
      });
    }
    return this.deliveries.slice(0, count);
  }
}

/** A promise a test opens by hand: handlers await it to stay "running". */
export class Gate {
  readonly opened: Promise<void>;
  open!: () => void;

  constructor() {
    this.opened = new Promise((resolve) => { this.open = resolve; });
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits for every promise; then rejects with the first rejection, if any. */
async function settleAll(promises: Array<Promise<unknown>>): Promise<void> {
  const failed = (await Promise.allSettled(promises)).find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** Retries `check` until it stops throwing; rethrows its last error after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 2000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(20);
    }
  }
}

/** The rejection of a promise that must reject (fails the test when it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the promise to reject, but it resolved');
}
