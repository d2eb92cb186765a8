import { container, type DependencyContainer } from 'tsyringe';
import { Warren, type Logger, type SettledEvent, type WarrenOptions } from '../../src';
import type { Delivery, Subscription, SubscribeOptions, Transport, DeliveryHandler } from '../../src/transport';
import { DelegatingTransport } from '../support/delegating-transport';
import { uniqueName } from '../support/broker';

/** A logger that keeps every line, to assert on what was (and was not) logged. */
export class RecordingLogger implements Logger {
  readonly lines: string[] = [];
  debug(message: string, fields?: object): void { this.lines.push(`debug ${message} ${JSON.stringify(fields ?? {})}`); }
  info(message: string, fields?: object): void { this.lines.push(`info ${message} ${JSON.stringify(fields ?? {})}`); }
  warn(message: string, fields?: object): void { this.lines.push(`warn ${message} ${JSON.stringify(fields ?? {})}`); }
  error(message: string, fields?: object): void { this.lines.push(`error ${message} ${JSON.stringify(fields ?? {})}`); }
  count(text: string): number { return this.lines.filter((l) => l.includes(text)).length; }
}

/** How a suite reaches its broker: a transport for each app and one for the test's own operations. */
export interface BrokerAccess {
  readonly name: string;
  /** A new transport for one app (unconnected). */
  appTransport(): Transport;
  /** The test's own transport: inspect, get, publish raw deliveries, clean up. */
  admin(): Promise<Transport>;
}

/** A transport whose close() leaves the shared one open: several in-memory apps share one vhost. */
export class SharedTransport extends DelegatingTransport {
  private readonly subscriptions: Subscription[] = [];
  override async subscribe(options: SubscribeOptions, handler: DeliveryHandler): Promise<Subscription> {
    const subscription = await this.inner.subscribe(options, handler);
    this.subscriptions.push(subscription);
    return subscription;
  }
  override async close(): Promise<void> { await Promise.allSettled(this.subscriptions.map((s) => s.close())); }
}

/** One test's apps, names and cleanup. */
export class SecurityContext {
  env: Record<string, string> = {};
  logger = new RecordingLogger();
  settled: SettledEvent[] = [];
  scope: DependencyContainer = container.createChildContainer();
  private apps: Warren[] = [];
  private adminTransport?: Transport;

  constructor(readonly broker: BrokerAccess) {}

  reset(): void {
    this.env = { EX: uniqueName('sec-ex'), Q: uniqueName('sec-q'), VICTIM: uniqueName('sec-victim') };
    this.logger = new RecordingLogger();
    this.settled = [];
    this.scope = container.createChildContainer();
    this.apps = [];
  }

  async admin(): Promise<Transport> {
    this.adminTransport ??= await this.broker.admin();
    return this.adminTransport;
  }

  async start(options: Partial<WarrenOptions>): Promise<Warren> {
    const app = await Warren.start({
      transport: this.broker.appTransport(), env: this.env, logger: this.logger, telemetry: false, container: this.scope,
      onSettled: (event) => this.settled.push(event), ...options,
    });
    this.apps.push(app);
    return app;
  }

  /** Every queue and exchange whose name starts with this test's prefixes. */
  async cleanup(queues: string[]): Promise<void> {
    await Promise.allSettled(this.apps.map((app) => withDeadline(app.close(), 10_000)));
    const admin = await this.admin();
    for (const queue of queues) await withDeadline(admin.deleteQueue(queue), 5000).catch(() => undefined);
    await withDeadline(admin.deleteExchange(this.env.EX!), 5000).catch(() => undefined);
  }

  async close(): Promise<void> {
    await withDeadline(this.adminTransport?.close() ?? Promise.resolve(), 10_000).catch(() => undefined);
  }
}

export function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms); }),
  ]);
}

/** Every message in a queue, taken (and acked). */
export async function drain(transport: Transport, queue: string): Promise<Delivery[]> {
  const taken: Delivery[] = [];
  for (let m = await transport.get(queue); m; m = await transport.get(queue)) {
    taken.push(m);
    await m.ack();
  }
  return taken;
}

export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}
