import type { Channel, Connection } from 'rabbitmq-client';
import type { ExchangeBindingSpec, ExchangeSpec, QueueBindingSpec, QueueSpec, Topology } from '../../transport';

/**
 * A declaration the broker refused, with the name of what was declared: RabbitMQ's own message
 * names the method but not always the queue or exchange (and some refusals close the connection).
 */
export class RefusedDeclaration extends Error {
  constructor(readonly what: string, readonly reason: unknown) {
    super(`${what}: ${reason instanceof Error ? reason.message : String(reason)}`);
  }
}

async function naming<T>(what: string, declare: () => Promise<T>): Promise<T> {
  try {
    return await declare();
  } catch (err) {
    throw new RefusedDeclaration(what, err);
  }
}

/** Declares exchanges, queues, exchange bindings, then queue bindings, in that order. */
export async function declareTopology(target: Connection | Channel, topology: Topology): Promise<void> {
  for (const e of topology.exchanges ?? []) await naming(`exchange "${e.name}"`, () => target.exchangeDeclare(exchangeDeclareParams(e)));
  for (const q of topology.queues ?? []) await naming(`queue "${q.name}"`, () => target.queueDeclare(queueDeclareParams(q)));
  for (const b of topology.exchangeBindings ?? []) {
    await naming(`exchange binding "${b.source}" → "${b.destination}"`, () => target.exchangeBind({ source: b.source, destination: b.destination, routingKey: b.routingKey, arguments: b.arguments }));
  }
  for (const b of topology.bindings ?? []) {
    await target.queueBind({ exchange: b.exchange, queue: b.queue, routingKey: b.routingKey, arguments: b.arguments });
  }
}

/**
 * What a consumer declares on its own channel before every (re)attach: the exchanges, its own queue
 * (or a passive check when the topology does not declare it) and the queue's bindings, so a deleted
 * queue comes back with its bindings.
 */
export async function declareConsumerTopology(channel: Channel, queue: string, topology: Topology): Promise<void> {
  for (const e of topology.exchanges ?? []) await channel.exchangeDeclare(exchangeDeclareParams(e));
  const own = topology.queues?.find((q) => q.name === queue);
  await channel.queueDeclare(own ? queueDeclareParams(own) : { queue, passive: true });
  for (const b of topology.bindings ?? []) {
    if (b.queue === queue) await channel.queueBind({ exchange: b.exchange, queue: b.queue, routingKey: b.routingKey, arguments: b.arguments });
  }
}

/** The topology without one queue and its bindings (an exclusive queue is declared by its consumer's connection only). */
export function withoutQueue(topology: Topology, queue: string): Topology {
  return { ...topology, queues: topology.queues?.filter((q) => q.name !== queue), bindings: topology.bindings?.filter((b) => b.queue !== queue) };
}

function exchangeDeclareParams(e: ExchangeSpec) {
  return { exchange: e.name, type: e.type, durable: e.durable ?? true, autoDelete: e.autoDelete ?? false, internal: e.internal ?? false, arguments: e.arguments };
}

function queueDeclareParams(q: QueueSpec) {
  return { queue: q.name, durable: q.durable ?? true, exclusive: q.exclusive ?? false, autoDelete: q.autoDelete ?? false, arguments: q.arguments };
}

/**
 * The exchanges and bindings Warren declared on a transport, so an exchange the broker lost (deleted
 * by an operator, or by a policy) can be declared again with every binding it took with it: RabbitMQ
 * deletes the bindings at both ends of a deleted exchange. Queues need no such record: a consumer
 * re-declares its own on every attach.
 */
export class DeclaredTopology {
  private readonly exchanges = new Map<string, ExchangeSpec>();
  private readonly bindings = new Map<string, QueueBindingSpec>();
  private readonly exchangeBindings = new Map<string, ExchangeBindingSpec>();
  private readonly healing = new Map<string, Promise<boolean>>();
  /** Exchanges Warren declared whose publishes still fail with NOT_FOUND after a re-declare. */
  private readonly failing = new Map<string, string>();

  /** Why publishing fails right now, if it does: for the health report. */
  get problem(): string | undefined {
    return this.failing.size ? [...this.failing.values()].join('; ') : undefined;
  }

  /** How a publish to `exchange` ended: a success clears a problem, a NOT_FOUND on a declared exchange is one. */
  outcome(exchange: string, error?: Error): void {
    if (!error) {
      if (this.failing.size) this.failing.delete(exchange);
    } else if (this.exchanges.has(exchange) && /NOT_FOUND/.test(error.message)) {
      this.failing.set(exchange, error.message);
    }
  }

  /**
   * Remembers a topology that was declared successfully. Auto-delete exchanges are left out: going
   * away with their last binding is what they were declared to do.
   */
  record(topology: Topology): void {
    for (const e of topology.exchanges ?? []) if (e.name !== '' && !e.autoDelete) this.exchanges.set(e.name, e);
    for (const b of topology.bindings ?? []) this.bindings.set(JSON.stringify([b.exchange, b.queue, b.routingKey, b.arguments ?? null]), b);
    for (const b of topology.exchangeBindings ?? []) this.exchangeBindings.set(JSON.stringify([b.source, b.destination, b.routingKey, b.arguments ?? null]), b);
  }

  /** An exchange or queue deleted through the transport on purpose: not to be brought back. */
  forget(deleted: { exchange?: string; queue?: string }): void {
    if (deleted.exchange !== undefined) this.exchanges.delete(deleted.exchange);
    for (const [key, b] of this.bindings) if (b.queue === deleted.queue || b.exchange === deleted.exchange) this.bindings.delete(key);
    for (const [key, b] of this.exchangeBindings) if (b.source === deleted.exchange || b.destination === deleted.exchange) this.exchangeBindings.delete(key);
  }

  /** Whether Warren declared this exchange. */
  knows(exchange: string): boolean {
    return this.exchanges.has(exchange);
  }

  /**
   * Declares `exchange` again with its bindings, once for every caller that found it missing at the
   * same time. Resolves false when Warren never declared it, or when the declaration failed; a
   * binding that fails (its queue is gone too) is reported and skipped.
   */
  redeclare(target: Connection, exchange: string, onBindingError: (error: Error) => void): Promise<boolean> {
    const spec = this.exchanges.get(exchange);
    if (!spec) return Promise.resolve(false);
    let healing = this.healing.get(exchange);
    if (!healing) {
      healing = (async () => {
        try {
          await target.exchangeDeclare(exchangeDeclareParams(spec));
        } catch {
          return false;
        }
        for (const b of this.exchangeBindings.values()) {
          if (b.source !== exchange && b.destination !== exchange) continue;
          await target.exchangeBind({ source: b.source, destination: b.destination, routingKey: b.routingKey, arguments: b.arguments }).catch(onBindingError);
        }
        for (const b of this.bindings.values()) {
          if (b.exchange !== exchange) continue;
          await target.queueBind({ exchange: b.exchange, queue: b.queue, routingKey: b.routingKey, arguments: b.arguments }).catch(onBindingError);
        }
        return true;
      })().finally(() => this.healing.delete(exchange));
      this.healing.set(exchange, healing);
    }
    return healing;
  }
}
