import type { ExchangeType, FieldTable } from '../../transport';
import { headersMatch, topicMatches, type HeadersMatch } from './routing';
import type { MemoryQueue } from './queue';
import type { MemoryStream } from './stream';

/** Where a binding leads: a queue (or stream), or another exchange (exchange-to-exchange binding). */
export type Destination = MemoryQueue | MemoryStream | MemoryExchange;

export interface Binding {
  readonly destination: Destination;
  readonly routingKey: string;
  readonly arguments: FieldTable | undefined;
  /** Identity for idempotent re-binding: destination kind + name + key + arguments. */
  readonly id: string;
  /** Topic exchanges: the binding key's words. */
  readonly pattern?: readonly string[];
  /** Headers exchanges: the binding's `x-match`. */
  readonly match?: HeadersMatch;
}

/**
 * One exchange and its outgoing bindings. Direct exchanges index bindings by key, so routing is a
 * map lookup; topic and headers exchanges test each binding (a handful, in any real topology).
 */
export class MemoryExchange {
  readonly kind = 'exchange';
  private readonly bindings: Binding[] = [];
  private readonly byKey = new Map<string, Binding[]>();
  /** Marks the exchange as visited in the routing pass numbered so (cycle protection without a Set). */
  routingPass = 0;

  constructor(
    readonly name: string,
    readonly type: ExchangeType,
    readonly durable: boolean,
    readonly autoDelete: boolean,
    readonly internal: boolean,
    readonly alternateExchange: string | undefined,
  ) {}

  get bindingCount(): number {
    return this.bindings.length;
  }

  bind(binding: Binding): void {
    if (this.bindings.some((b) => b.id === binding.id)) return;
    this.bindings.push(binding);
    if (this.type === 'direct') {
      const list = this.byKey.get(binding.routingKey);
      if (list) list.push(binding);
      else this.byKey.set(binding.routingKey, [binding]);
    }
  }

  /** Removes every binding to `destination`; returns how many there were. */
  unbindAll(destination: Destination): number {
    let removed = 0;
    for (let i = this.bindings.length - 1; i >= 0; i--) {
      const binding = this.bindings[i]!;
      if (binding.destination !== destination) continue;
      this.bindings.splice(i, 1);
      removed++;
      const list = this.byKey.get(binding.routingKey);
      if (list) {
        list.splice(list.indexOf(binding), 1);
        if (list.length === 0) this.byKey.delete(binding.routingKey);
      }
    }
    return removed;
  }

  /** Appends the destinations this exchange's own bindings select for the message to `out`. */
  match(routingKey: string, words: readonly string[] | undefined, headers: FieldTable | undefined, out: Destination[]): void {
    switch (this.type) {
      case 'direct': {
        const list = this.byKey.get(routingKey);
        if (list) for (const binding of list) out.push(binding.destination);
        return;
      }
      case 'fanout':
        for (const binding of this.bindings) out.push(binding.destination);
        return;
      case 'topic':
        for (const binding of this.bindings) if (topicMatches(binding.pattern!, words!)) out.push(binding.destination);
        return;
      case 'headers':
        for (const binding of this.bindings) if (headersMatch(binding.match!, binding.arguments, headers)) out.push(binding.destination);
        return;
    }
  }
}

