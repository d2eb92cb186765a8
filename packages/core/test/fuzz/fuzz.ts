import { expect } from 'chai';
import fc from 'fast-check';
import { container } from 'tsyringe';
import { DEAD_LETTER_EXCHANGE, readDelayedRoutingKey, retryHop, silentLogger, Warren } from '../../src';
import type { Delivery, OutgoingMessage, Settlement, Subscription, Transport } from '../../src/transport';
import { withDeadline } from '../security/harness';
import { uniqueName } from '../support/broker';
import { hostileDelivery, type HostileDelivery } from './arbitraries';
import { FUZZ_ATTEMPTS, FuzzConsumers } from './consumers';
import { ObservedTransport, type TransportObserver } from './observed-transport';

/** Where the fuzz runs: the app's transport is wrapped by the observer; `admin` publishes the hostile deliveries. */
export interface FuzzBroker {
  appTransport(): Transport;
  admin: Transport;
}

/** Keys the broker owns: Warren must never copy them into a publish of its own. */
const BROKER_OWNED = /^x-(death|first-death-|last-death-)/;
const FUZZ_ID = 'x-fuzz-id';
const CASE_DEADLINE_MS = 10_000;

interface Track { invocations: number; terminal: string[]; publishedThisCall: boolean; done?: () => void }

/**
 * Runs hostile deliveries through the real pipeline and checks, per delivery: settled exactly once
 * (one terminal fate: handled or dead-lettered), never more than the consumer's attempts, a dead
 * letter always with reason headers, Object.prototype unchanged, nothing thrown out of the
 * pipeline, no publish outside the app's topology, no broker-owned header copied.
 */
export class DeliveryFuzzer {
  private readonly env = { EX: uniqueName('fuzz-ex'), Q: uniqueName('fuzz-q') };
  private readonly victim = `${this.env.Q}.victim`;
  private readonly tracks = new Map<string, Track>();
  private violations: string[] = [];
  private app?: Warren;
  private readonly subscriptions: Subscription[] = [];
  private next = 0;
  private readonly prototypeBefore = Object.getOwnPropertyNames(Object.prototype).sort().join();
  private readonly onUnhandled = (reason: unknown) => this.violations.push(`unhandled rejection: ${String((reason as Error)?.message ?? typeof reason)}`);

  constructor(private readonly broker: FuzzBroker) {}

  get queues(): string[] {
    return ['event', 'rpc'].flatMap((c) => [`${this.env.Q}.${c}`, `${this.env.Q}.${c}.dlq`, `${this.env.Q}.${c}.retry`]).concat(this.victim);
  }

  /** The retry hops of the two consumers, by the id a retry's cascade routing key ends in. */
  private readonly retryHopIds = new Set(['event', 'rpc'].map((c) => retryHop(`${this.env.Q}.${c}`, 'classic').id));

  async start(): Promise<void> {
    process.on('unhandledRejection', this.onUnhandled);
    const transport = new ObservedTransport(this.broker.appTransport(), this.observer());
    this.app = await Warren.start({ transport, handlers: [FuzzConsumers], env: this.env, logger: silentLogger, telemetry: false, container: container.createChildContainer() });
    await this.broker.admin.declare({ queues: [{ name: this.victim }] });
    for (const consumer of ['event', 'rpc']) {
      this.subscriptions.push(await this.broker.admin.subscribe({ queue: `${this.env.Q}.${consumer}.dlq`, prefetch: 100, concurrency: 1 }, async (dead) => {
        this.deadLettered(dead);
        return 'ack';
      }));
    }
  }

  /** Never hangs: every step has a deadline. */
  async stop(): Promise<void> {
    process.off('unhandledRejection', this.onUnhandled);
    await withDeadline(Promise.allSettled(this.subscriptions.map((s) => s.close())), 10_000).catch(() => undefined);
    await withDeadline(this.app?.close() ?? Promise.resolve(), 15_000).catch(() => undefined);
    for (const queue of this.queues) await withDeadline(this.broker.admin.deleteQueue(queue), 5000).catch(() => undefined);
    await withDeadline(this.broker.admin.deleteExchange(this.env.EX), 5000).catch(() => undefined);
  }

  /** The property: one hostile delivery, sent and followed to its fate. */
  property(): fc.IAsyncProperty<[HostileDelivery]> {
    return fc.asyncProperty(hostileDelivery([this.victim, `${this.env.Q}.event`, 'amq.rabbitmq.reply-to']), (delivery) => this.check(delivery));
  }

  async check(delivery: HostileDelivery): Promise<void> {
    this.violations = [];
    const id = String(++this.next);
    const track: Track = { invocations: 0, terminal: [], publishedThisCall: false };
    this.tracks.set(id, track);
    const finished = new Promise<void>((resolve) => { track.done = resolve; });
    const headers = { ...delivery.headers, [FUZZ_ID]: id };
    try {
      await this.broker.admin.publish({
        exchange: this.env.EX, routingKey: delivery.routingKey, body: delivery.body,
        properties: { contentType: delivery.contentType, contentEncoding: delivery.contentEncoding, headers, replyTo: delivery.replyTo, correlationId: delivery.correlationId, messageId: delivery.messageId, priority: delivery.priority, deliveryMode: 1 },
      });
    } catch (error) {
      // The broker (or its client) refused to carry it: nothing reached Warren.
      this.tracks.delete(id);
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([finished, new Promise<void>((resolve) => { timer = setTimeout(() => { this.violations.push(`delivery ${id} never reached a fate within ${CASE_DEADLINE_MS} ms (invocations ${track.invocations})`); resolve(); }, CASE_DEADLINE_MS); })]);
    clearTimeout(timer);
    if (track.invocations > FUZZ_ATTEMPTS) this.violations.push(`delivery ${id} was handled ${track.invocations} times (at most ${FUZZ_ATTEMPTS})`);
    if (Object.getOwnPropertyNames(Object.prototype).sort().join() !== this.prototypeBefore) this.violations.push('Object.prototype changed');
    for (const probe of ['isAdmin', 'polluted', 'act']) if ((({}) as Record<string, unknown>)[probe] !== undefined) this.violations.push(`Object.prototype.${probe} is set`);
    expect(this.violations, describe(delivery)).to.deep.equal([]);
  }

  /** After the run: every delivery had exactly one fate (a late second one shows up here). */
  async assertSettledOnce(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const wrong = [...this.tracks.entries()].filter(([, t]) => t.terminal.length !== 1).map(([id, t]) => `${id}: ${t.terminal.join(', ') || 'no fate'}`);
    expect(wrong, 'deliveries without exactly one fate').to.deep.equal([]);
  }

  get cases(): number {
    return this.tracks.size;
  }

  private fate(id: string | undefined, fate: string): void {
    const track = id === undefined ? undefined : this.tracks.get(id);
    if (!track) return;
    track.terminal.push(fate);
    track.done?.();
  }

  private deadLettered(dead: Delivery): void {
    const headers = dead.properties.headers ?? {};
    const id = typeof headers[FUZZ_ID] === 'string' ? headers[FUZZ_ID] as string : undefined;
    if (typeof headers['x-warren-error-code'] !== 'string') this.violations.push(`dead letter ${id} without x-warren-error-code (x-death reason: ${JSON.stringify((headers['x-death'] as Array<{ reason?: unknown }> | undefined)?.[0]?.reason)})`);
    this.fate(id, 'dead-lettered');
  }

  private observer(): TransportObserver {
    const idOf = (d: { properties: { headers?: Record<string, unknown> } }) => {
      const value = d.properties.headers?.[FUZZ_ID];
      return typeof value === 'string' ? value : undefined;
    };
    return {
      published: (message: OutgoingMessage) => {
        this.checkPublish(message);
        const track = this.tracks.get(idOf(message) ?? '');
        if (track) track.publishedThisCall = true;
      },
      delivered: (delivery) => {
        const track = this.tracks.get(idOf(delivery) ?? '');
        if (!track) return;
        track.invocations++;
        track.publishedThisCall = false;
      },
      settled: (delivery, settlement: Settlement | undefined, thrown) => {
        const id = idOf(delivery);
        if (thrown !== undefined) this.violations.push(`the pipeline threw for delivery ${id}: ${String((thrown as Error)?.message ?? thrown)}`);
        const track = this.tracks.get(id ?? '');
        // Acked without parking it for a retry or dead-lettering it: handled (answered or not).
        if (track && settlement === 'ack' && !track.publishedThisCall) this.fate(id, 'handled');
      },
    };
  }

  private checkPublish(message: OutgoingMessage): void {
    const { exchange, routingKey } = message;
    const ownQueue = (name: string) => name === `${this.env.Q}.event` || name === `${this.env.Q}.rpc`;
    const delayed = exchange.startsWith('warren.delay.') ? readDelayedRoutingKey(routingKey) : undefined;
    const retry = delayed !== undefined && this.retryHopIds.has(delayed.hopId);
    const reply = exchange === '' && routingKey.startsWith('amq.rabbitmq.reply-to.');
    const deadLetter = exchange === DEAD_LETTER_EXCHANGE && ownQueue(routingKey);
    if (!retry && !reply && !deadLetter) this.violations.push(`published outside the app's topology: exchange "${exchange}", routing key "${routingKey}"`);
    for (const key of Object.keys(message.properties.headers ?? {})) {
      if (BROKER_OWNED.test(key)) this.violations.push(`a Warren publish to "${exchange}"/"${routingKey}" copied the broker-owned header ${key}`);
    }
  }
}

function describe(delivery: HostileDelivery): string {
  return JSON.stringify({ ...delivery, body: `${delivery.body.length} bytes: ${delivery.body.subarray(0, 60).toString('hex')}` });
}
