import { types } from 'node:util';
import { delayCascadeTopology, delayHopTopology, delayedAddress, MAX_DELAY_MS, type DelayHop } from './delay-cascade';
import type { QueueType } from './consumer-topology';
import { ConfigurationError, InvalidDelayError } from './errors';
import { isBrokerOwnedHeader } from './failure-headers';
import { assertTopologyExists } from './passive-topology';
import type { ConsumerPlan } from './consumer-plan';
import type { SendOptions } from './options';
import { describeValue } from './retry-delays';
import type { FieldTable, OutgoingMessage, PublishOptions, Topology, Transport } from './transport';

/**
 * Scheduled publishing: a route's `delay` / `at` send options, checked at the call, and the
 * declarations the cascade needs (delay-cascade.ts), made once per app on first use.
 */

/** When a send should arrive: `delay` ms from now, or `at` a point in time. */
export type DelayOptions = Pick<SendOptions, 'delay' | 'at'>;

/**
 * The delay a send asks for, in whole milliseconds (0: at once), or undefined when it asks for
 * none. Throws `InvalidDelayError` (INVALID_DELAY) for anything else: both options, a delay that is
 * not a whole number of ms from 0 to MAX_DELAY_MS, an `at` that is not a valid Date or lies further ahead.
 */
export function requestedDelay(options: DelayOptions, now = Date.now()): number | undefined {
  const { delay, at } = options;
  if (delay === undefined && at === undefined) return undefined;
  const refuse = (given: unknown, problem: string) => new InvalidDelayError(describeValue(given), MAX_DELAY_MS, `A delayed send ${problem}; the longest delay is ${MAX_DELAY_MS} ms (about 49.7 days). Use a scheduler (a database row and a job) for longer waits.`);
  if (delay !== undefined && at !== undefined) throw refuse(delay, 'takes either delay or at, not both');
  if (delay !== undefined) {
    if (typeof delay !== 'number' || !Number.isInteger(delay)) throw refuse(delay, `needs delay as a whole number of milliseconds (got ${describeValue(delay)})`);
    if (delay < 0 || delay > MAX_DELAY_MS) throw refuse(delay, `needs delay from 0 to ${MAX_DELAY_MS} ms (got ${delay})`);
    return delay;
  }
  // A brand check, not instanceof: a Date from another realm (a vm context, a worker) is a Date too.
  const time = types.isDate(at) ? (at as Date).getTime() : Number.NaN;
  if (!Number.isFinite(time)) throw refuse(at, `needs at as a valid Date (got ${types.isDate(at) ? 'an invalid Date' : describeValue(at)})`);
  const ms = Math.max(0, time - now);
  if (ms > MAX_DELAY_MS) throw refuse(at, `needs at within ${MAX_DELAY_MS} ms from now (got ${new Date(time).toISOString()}, ${ms} ms ahead)`);
  return ms;
}

/**
 * `message` (addressed to its destination) as it enters the cascade: published to the first
 * level its delay needs, with a routing key spelling the delay and the hop, properties and
 * headers kept. Refused: a per-message `expiration` (it would cut the first wait short, and
 * RabbitMQ drops it at the first dead-letter hop) and `CC` / `BCC` (a hop's fixed routing key
 * removes them). Headers the broker owns (`x-death`, `x-first-death-*`…) are left out: copied from
 * a message received earlier, RabbitMQ 3.x would read them as a dead-letter cycle and drop the message.
 */
export function delayedMessage(message: OutgoingMessage, delayMs: number, hop: DelayHop): OutgoingMessage {
  const { properties } = message;
  if (properties.expiration !== undefined) throw new ConfigurationError('A delayed send cannot carry an expiration: the broker would expire it while it waits. Leave expiration out, or check the age in the handler.');
  const headers: FieldTable = {};
  for (const [name, value] of Object.entries(properties.headers ?? {})) {
    if (name === 'CC' || name === 'BCC') throw new ConfigurationError(`A delayed send cannot carry a ${name} header: its last hop routes with one fixed routing key. Send one delayed message per destination.`);
    if (!isBrokerOwnedHeader(name)) headers[name] = value;
  }
  const address = delayedAddress(delayMs, hop);
  return { ...message, exchange: address.exchange, routingKey: address.routingKey, properties: { ...properties, headers }, mandatory: true };
}

/**
 * The cascades and hops an app has made ready, each once: declared, or with `declare: false`
 * checked passively (an administrator created them from `warren topology --print`). One
 * declaration at a time, so a refused one never closes a channel under another; a failed one is
 * tried again on the next send.
 */
export class DelayedDelivery {
  private readonly ready = new Map<string, Promise<void>>();
  /** Keys whose preparation has finished: a send to them declares nothing and waits for nothing. */
  private readonly done = new Set<string>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly transport: Transport) {}

  /** Makes the cascade of `queueType` ready (at start, for consumers that retry). */
  prepareCascade(queueType: QueueType, declare: boolean): Promise<void> {
    return this.once(this.cascadeKey(queueType, declare), () => this.make(delayCascadeTopology(queueType), declare, `the ${queueType} delay cascade`));
  }

  /** Makes the hop's cascade and the hop ready. */
  async prepareHop(hop: DelayHop, declare: boolean): Promise<void> {
    await this.prepareCascade(hop.queueType, declare);
    await this.once(this.hopKey(hop, declare), () => this.make(delayHopTopology(hop), declare, `delayed sends to ${hop.exchange || '(default exchange)'} / ${hop.routingKey}`));
  }

  /**
   * Sends `message` (addressed to the hop's destination) through the cascade, `delayMs` (≥ 1) late.
   * When the cascade or hop had to be made ready first, the time that took is taken off the delay,
   * so a first send's declarations do not make it late; a message due by then is sent straight to
   * its destination.
   */
  async publish(message: OutgoingMessage, delayMs: number, hop: DelayHop, declare: boolean, options?: PublishOptions): Promise<void> {
    await this.transport.publish(await this.enter(message, delayMs, hop, declare), options);
  }

  /** `message` as it enters the cascade (or, already due, as it is), with the cascade and hop ready. */
  async enter(message: OutgoingMessage, delayMs: number, hop: DelayHop, declare: boolean): Promise<OutgoingMessage> {
    delayedMessage(message, 1, hop); // refuses what cannot wait in the cascade before anything is declared
    const started = Date.now();
    const ready = this.done.has(this.cascadeKey(hop.queueType, declare)) && this.done.has(this.hopKey(hop, declare));
    if (!ready) {
      await this.prepareHop(hop, declare);
      delayMs -= Date.now() - started;
    }
    return delayMs > 0 ? delayedMessage(message, delayMs, hop) : message;
  }

  private cascadeKey(queueType: QueueType, declare: boolean): string {
    return `cascade:${queueType}:${declare}`;
  }

  private hopKey(hop: DelayHop, declare: boolean): string {
    return `hop:${hop.name}:${declare}`;
  }

  private make(topology: Topology, declare: boolean, neededBy: string): Promise<void> {
    return declare ? this.transport.declare(topology) : assertTopologyExists(this.transport, [{ neededBy, topology }]);
  }

  private once(key: string, make: () => Promise<void>): Promise<void> {
    let ready = this.ready.get(key);
    if (!ready) {
      ready = this.queue.then(make, make);
      this.ready.set(key, ready);
      ready.then(() => this.done.add(key), () => this.ready.delete(key));
      this.queue = ready.catch(() => undefined);
    }
    return ready;
  }
}

/**
 * At start: the cascade of each queue type whose consumers retry, declared once, before the
 * consumers bind their retry hops to it. (Consumers with `declare: false` had it checked with the
 * rest of their topology, by `prepareTopology`.)
 */
export async function prepareRetryCascades(delays: DelayedDelivery, consumers: readonly ConsumerPlan[]): Promise<void> {
  for (const plan of consumers) if (plan.retryHop && plan.declare) await delays.prepareCascade(plan.retryHop.queueType, true);
}
