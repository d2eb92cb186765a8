import { injectable } from 'tsyringe';
import { Consumer, MessageContext, Publisher, route } from '../../src';

/** What the consumers saw, shared through the test's container. */
@injectable()
export class Seen {
  calls: Array<{ consumer: string; payload: unknown; context: MessageContext }> = [];

  count(consumer: string, messageId?: string): number {
    return this.calls.filter((c) => c.consumer === consumer && (messageId === undefined || c.context.messageId === messageId)).length;
  }
}

type Payload = { fail?: string } | null;
const RETRY = { attempts: 3, delay: 20 };

/** One consumer per way of answering requests; `{ fail: 'why' }` makes any of them throw. */
@injectable()
export class RequestConsumers {
  constructor(private readonly seen: Seen) {}

  /** Written before the `reply` option existed: an event consumer that happens to return a value. */
  @Consumer('${EX}', 'event', { queue: '${Q}.event', message: Object, retry: RETRY })
  async event(payload: Payload, context: MessageContext) {
    return this.record('event', payload, context, { ok: true });
  }

  @Consumer('${EX}', 'rpc', { queue: '${Q}.rpc', message: Object, retry: RETRY, reply: true })
  async rpc(payload: Payload, context: MessageContext) {
    return this.record('rpc', payload, context, { answer: 42 });
  }

  @Consumer('${EX}', 'named', { queue: '${Q}.named', message: Object, reply: { namedQueues: true } })
  async named(payload: Payload, context: MessageContext) {
    return this.record('named', payload, context, { answer: 'to a named queue' });
  }

  @Consumer('${EX}', 'never', { queue: '${Q}.never', message: Object, reply: false })
  async never(payload: Payload, context: MessageContext) {
    return this.record('never', payload, context, { internal: 'never sent' });
  }

  private record(consumer: string, payload: Payload, context: MessageContext, result: unknown): unknown {
    this.seen.calls.push({ consumer, payload, context });
    if (payload?.fail) throw new Error(payload.fail);
    return result;
  }
}

/** Every queue RequestConsumers declares under a prefix (for cleanup). */
export function requestQueues(prefix: string): string[] {
  return ['event', 'rpc', 'named', 'never'].flatMap((c) => [`${prefix}.${c}`, `${prefix}.${c}.dlq`, `${prefix}.${c}.retry`]);
}

@Publisher('${EX}')
export class Calls {
  readonly event = route('event', Object, { reply: Object });
  readonly rpc = route('rpc', Object, { reply: Object });
  readonly never = route('never', Object, { reply: Object });
  readonly compressed = route('event', Object, { compress: 'gzip' });
  readonly deflated = route('event', Object, { compress: 'deflate' });
}
