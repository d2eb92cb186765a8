import type { AsyncMessage, Channel, Connection, Envelope, ReturnedMessage } from 'rabbitmq-client';
import { keepRawBodies } from './message';
import { randomUUID } from 'node:crypto';
import { PublishError, RequestTimeoutError, UnroutableError } from '../../errors';

const REPLY_TO = 'amq.rabbitmq.reply-to';

interface Pending {
  resolve(reply: AsyncMessage): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * Requests over RabbitMQ's direct reply-to, on one channel of the publishing connection.
 * rabbitmq-client's RPCClient is not used: it has one timeout per client (not per request),
 * overwrites the request's `expiration` and `correlationId`, keeps timed-out requests pending (so
 * closing it waits for them), and does not report unroutable requests. Here a request is mandatory,
 * so one that reaches no queue fails at once with `UnroutableError` instead of timing out.
 */
export class DirectReplyClient {
  private channel?: Promise<Channel>;
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly connection: Connection, private readonly clean: (error: unknown) => string) {}

  async request(envelope: Envelope, body: Buffer, timeoutMs: number): Promise<AsyncMessage> {
    const channel = await this.open();
    const correlationId = envelope.correlationId ?? randomUUID();
    if (this.pending.has(correlationId)) throw new PublishError(`A request with correlation id "${correlationId}" is already waiting for its reply.`);
    const reply = new Promise<AsyncMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(correlationId);
        reject(new RequestTimeoutError(envelope.exchange ?? '', envelope.routingKey ?? '', timeoutMs));
      }, timeoutMs);
      this.pending.set(correlationId, { resolve, reject, timer });
    });
    // Not awaited: the reply proves the request arrived, so waiting for the confirm as well only
    // adds the confirm's latency. A nack or a failed send still fails the request.
    channel.basicPublish({ ...envelope, correlationId, replyTo: REPLY_TO, mandatory: true }, body).catch((error: unknown) => {
      this.settle(correlationId, undefined, new PublishError(`Sending a request to exchange "${envelope.exchange}" failed: ${this.clean(error)}`, { cause: error }));
    });
    return reply;
  }

  private settle(correlationId: string, reply: AsyncMessage | undefined, error?: Error): void {
    const pending = this.pending.get(correlationId);
    if (!pending) return;
    this.pending.delete(correlationId);
    clearTimeout(pending.timer);
    if (error) pending.reject(error);
    else pending.resolve(reply!);
  }

  private open(): Promise<Channel> {
    this.channel ??= (async () => {
      const channel = await this.connection.acquire();
      keepRawBodies(channel);
      channel.on('basic.return', (returned: ReturnedMessage) => {
        if (returned.correlationId) this.settle(returned.correlationId, undefined, new UnroutableError(returned.exchange, returned.routingKey));
      });
      channel.once('close', () => {
        this.channel = undefined;
        for (const id of [...this.pending.keys()]) this.settle(id, undefined, new PublishError('The connection was lost while waiting for a reply; the request may or may not have been handled.'));
      });
      await channel.confirmSelect();
      await channel.basicConsume({ queue: REPLY_TO, noAck: true }, (reply) => {
        if (reply.correlationId) this.settle(reply.correlationId, reply);
      });
      return channel;
    })();
    this.channel.catch(() => { this.channel = undefined; });
    return this.channel;
  }

  /** Fails every waiting request and closes the channel. */
  async close(): Promise<void> {
    for (const id of [...this.pending.keys()]) this.settle(id, undefined, new PublishError('The transport was closed while waiting for a reply.'));
    const channel = await this.channel?.catch(() => undefined);
    this.channel = undefined;
    await channel?.close().catch(() => undefined);
  }
}
