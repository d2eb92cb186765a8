import { jsonCodec } from './codec';
import { ConfigurationError, UnroutableError, type WarrenError } from './errors';
import type { Logger } from './logger';
import type { MessageContext } from './context';
import type { ConsumerOptions } from './options';
import { errorHeaders } from './outcome';
import type { FieldTable, OutgoingMessage, Transport } from './transport';

/**
 * Who gets answered. A `replyTo` on a delivery is a claim by whoever published it, so it is only
 * followed when the consumer answers requests AND the address is a direct reply-to address
 * (`amq.rabbitmq.reply-to.*`, which reaches only the connection that is waiting for it), unless the
 * consumer opts in to named reply queues. Every other delivery is an ordinary message: retried and
 * dead-lettered by the consumer's policy, whatever its `replyTo`.
 *
 * - `reply: true` — the consumer answers requests: its return value is the reply, and a failure is
 *   answered with an error reply (`RemoteError` for the caller) instead of being retried.
 * - `reply` unset — kept for consumers written before the option: a request is answered when the
 *   handler returns a value (not `undefined`); a failure follows the retry / dead-letter policy, and
 *   only once the message is dead-lettered is the caller sent the error. Warren logs a one-time
 *   warning asking to say `reply: true` (or `false`).
 * - `reply: false` — never answers.
 * - `reply: { namedQueues: true }` — like `true`, and also answers a `replyTo` naming an ordinary
 *   queue (only for callers you trust: any publisher can then make this consumer write into any
 *   queue of the vhost).
 */
export const DIRECT_REPLY_TO_PREFIX = 'amq.rabbitmq.reply-to.';

export type ReplyMode = 'always' | 'value' | 'never';

export interface ReplyPolicy {
  readonly mode: ReplyMode;
  readonly namedQueues: boolean;
}

/** The reply policy of a consumer's options; a ConfigurationError for anything else. */
export function replyPolicyOf(option: ConsumerOptions['reply'], id: string, batch: boolean): ReplyPolicy {
  if (option === undefined) return { mode: batch ? 'never' : 'value', namedQueues: false };
  if (option === false) return { mode: 'never', namedQueues: false };
  const namedQueues = typeof option === 'object' && option !== null && option.namedQueues === true;
  if (option !== true && !(typeof option === 'object' && option !== null && typeof option.namedQueues === 'boolean')) {
    throw new ConfigurationError(`${id}: reply must be true, false or { namedQueues: boolean } (got ${JSON.stringify(option)}).`);
  }
  if (batch) throw new ConfigurationError(`${id}: a batch consumer cannot answer requests; remove { reply } or { batch }.`);
  return { mode: 'always', namedQueues };
}

/** Where to answer this delivery, or undefined when it is not a request this consumer answers. */
export function replyAddress(policy: ReplyPolicy, replyTo: string | undefined): string | undefined {
  if (policy.mode === 'never' || replyTo === undefined || replyTo === '') return undefined;
  if (replyTo.startsWith(DIRECT_REPLY_TO_PREFIX) && replyTo.length > DIRECT_REPLY_TO_PREFIX.length) return replyTo;
  return policy.namedQueues ? replyTo : undefined;
}

/** Sends replies: never throws, every failure is logged. */
export class Replier {
  private warnedImplicit = false;

  constructor(private readonly transport: Transport, private readonly logger: Logger, private readonly consumer: string) {}

  /** The handler's result as the reply. */
  async result(address: string, context: MessageContext, result: unknown, implicit: boolean): Promise<void> {
    if (implicit) this.warnImplicit();
    const message = Buffer.isBuffer(result)
      ? replyMessage(address, context, result, 'application/octet-stream')
      : typeof result === 'string'
        ? replyMessage(address, context, Buffer.from(result, 'utf8'), 'text/plain')
        : replyMessage(address, context, jsonCodec.encode(result ?? null), 'application/json');
    await this.send(message, context);
  }

  /** A failure as an error reply: the caller gets a `RemoteError` with the code. */
  async error(address: string, context: MessageContext, error: WarrenError, implicit: boolean): Promise<void> {
    if (implicit) this.warnImplicit();
    const body = jsonCodec.encode({ error: { code: error.code, message: error.message } });
    await this.send(replyMessage(address, context, body, 'application/json', errorHeaders(error)), context);
  }

  private warnImplicit(): void {
    if (this.warnedImplicit) return;
    this.warnedImplicit = true;
    this.logger.warn('answered a request from a consumer without { reply } in its options; set reply: true on a consumer that answers requests, reply: false on one that never should', { consumer: this.consumer });
  }

  private async send(message: OutgoingMessage, context: MessageContext): Promise<void> {
    // RabbitMQ returns every mandatory publish to a direct reply-to address, delivered or not
    // (measured on 3.x and 4.0), so only replies to named queues can be mandatory; a direct reply
    // whose caller has gone is dropped by the broker, as the caller has already timed out.
    const named = !message.routingKey.startsWith(DIRECT_REPLY_TO_PREFIX);
    try {
      await this.transport.publish({ ...message, mandatory: named }, { confirm: named });
    } catch (error) {
      const unroutable = error instanceof UnroutableError;
      this.logger.warn(unroutable ? 'the reply was unroutable: no queue has the name in replyTo' : 'could not send the reply', {
        consumer: this.consumer, messageId: context.messageId, correlationId: context.correlationId, replyTo: message.routingKey, error: (error as Error).message,
      });
    }
  }
}

function replyMessage(address: string, context: MessageContext, body: Buffer, contentType: string, headers?: FieldTable): OutgoingMessage {
  return {
    exchange: '',
    routingKey: address,
    body,
    properties: { contentType, correlationId: context.correlationId, headers, deliveryMode: 1, timestamp: Math.floor(Date.now() / 1000) },
  };
}
