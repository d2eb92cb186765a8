import 'reflect-metadata';
import { IsInt, IsString, Min } from 'class-validator';
import { container, inject, injectable } from 'tsyringe';
import {
  Consumer, MemoryOffsetStore, MessageContext, requeue, silentLogger, Warren, type OffsetStore, type SettledEvent, type Subscription,
  type SubscribeOptions, type DeliveryHandler, type Transport, type WarrenOptions,
} from '../../src';
import { MemoryTransport } from '../../src';
import { DelegatingTransport } from './delegating-transport';
import { uniqueName } from './broker';
import { afterEachCleanup } from './cleanup';

/** An event on the audit stream. `script` tells the handler what to do with it. */
export class AuditEvent {
  @IsString() id!: string;
  @IsInt() @Min(0) n!: number;
  @IsString() script!: string;
}

/** What one app's handler saw: offsets and ids in handling order, by app. */
export class AuditLog {
  readonly handled: Array<{ id: string; offset: number | undefined; attempt: number }> = [];
  readonly failures = new Map<string, number>();

  ids(): string[] {
    return this.handled.map((h) => h.id);
  }
}

/** A stream consumer whose handler does what each event's `script` says. */
@injectable()
export class Audit {
  constructor(@inject(AuditLog) private readonly log: AuditLog) {}

  @Consumer('${EX}', 'audit.#', {
    exchangeType: 'topic', queue: '${S}', queueType: 'stream', offset: 'first', prefetch: 8, concurrency: 4,
    retry: { attempts: 3, delay: 10 }, offsetCommit: { every: 5, intervalMs: 60_000 },
  })
  async record(event: AuditEvent, ctx: MessageContext): Promise<unknown> {
    const failures = this.log.failures.get(event.id) ?? 0;
    if (event.script === 'fail' || (event.script === 'fail-once' && failures === 0)) {
      this.log.failures.set(event.id, failures + 1);
      throw new Error(`scripted failure of ${event.id}`);
    }
    if (event.script === 'requeue-once' && failures === 0) {
      this.log.failures.set(event.id, 1);
      return requeue('not yet');
    }
    if (event.script.startsWith('sleep:')) await new Promise((resolve) => setTimeout(resolve, Number(event.script.slice(6))));
    this.log.handled.push({ id: event.id, offset: ctx.streamOffset, attempt: ctx.attempt });
    return undefined;
  }
}

/**
 * A transport whose close() leaves the broker it wraps running (as a restarted service leaves
 * RabbitMQ): it closes only the subscriptions it made. Two apps one after the other then share the
 * in-memory broker like two lives of one service.
 */
export class OutlivingTransport extends DelegatingTransport {
  private readonly subscriptions: Subscription[] = [];

  override async subscribe(options: SubscribeOptions, handler: DeliveryHandler): Promise<Subscription> {
    const subscription = await this.inner.subscribe(options, handler);
    this.subscriptions.push(subscription);
    return subscription;
  }

  override async close(options?: { timeoutMs?: number }): Promise<void> {
    await Promise.all(this.subscriptions.splice(0).map((s) => s.close(options?.timeoutMs)));
  }
}

/** Names for one test: the exchange and the stream. */
export function streamNames(prefix: string): { EX: string; S: string } {
  const base = uniqueName(prefix);
  return { EX: `${base}.events`, S: `${base}.audit` };
}

/** Starts an app with the Audit consumer on `transport`, recording what it handled in the returned log. */
export async function startAudit(transport: Transport, env: Record<string, string>, extra: Partial<WarrenOptions> & { offsetStore?: OffsetStore } = {}): Promise<{ app: Warren; log: AuditLog; settled: SettledEvent[] }> {
  const log = new AuditLog();
  const settled: SettledEvent[] = [];
  const scope = container.createChildContainer();
  scope.registerInstance(AuditLog, log);
  const app = await Warren.start({
    transport, env, handlers: [Audit], container: scope, logger: silentLogger, telemetry: false,
    offsetStore: new MemoryOffsetStore(), onSettled: (event) => settled.push(event), ...extra,
  });
  return { app, log, settled };
}

/** Publishes audit events `from`…`to - 1` with the given script (default: just record). */
export async function publishAudit(app: Warren, exchange: string, from: number, to: number, script = 'ok'): Promise<void> {
  for (let n = from; n < to; n++) await app.publish(exchange, 'audit.event', { id: `e${n}`, n, script }, { messageId: `e${n}` });
}

/**
 * For a describe block: a fresh in-memory broker per test, outliving the apps started on it (as
 * RabbitMQ outlives a service), all closed after the test. `start` starts the Audit consumer on it.
 */
export function auditAppsPerTest(): { broker(): MemoryTransport; start(env: Record<string, string>, extra?: Parameters<typeof startAudit>[2], transport?: Transport): ReturnType<typeof startAudit> } {
  let broker: MemoryTransport;
  const apps: Warren[] = [];
  beforeEach(() => { broker = new MemoryTransport(); });
  afterEachCleanup('close the apps and the broker', async () => {
    for (const app of apps.splice(0)) await app.close();
    await broker.close();
  });
  return {
    broker: () => broker,
    start: async (env, extra = {}, transport = new OutlivingTransport(broker)) => {
      const started = await startAudit(transport, env, extra);
      apps.push(started.app);
      return started;
    },
  };
}
