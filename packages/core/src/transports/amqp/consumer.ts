import type { AsyncMessage, Channel, Connection } from 'rabbitmq-client';
import { ConnectionError, InvalidStreamOffsetError, WarrenError } from '../../errors';
import { assertStreamOffsetArgument } from '../../stream-offset';
import type { DeliveryHandler, Settlement, SubscribeOptions, Subscription, TransportEvents } from '../../transport';
import { AckBatch } from './acks';
import { REFUSALS, type BrokerErrors } from './errors';
import { keepRawBodies, toDelivery } from './message';
import { declareConsumerTopology } from './topology';

/** What a consumer needs from its transport. */
export interface ConsumerDeps {
  /** The consuming connection; channels come from its public `acquire()`. */
  connection: Connection;
  events: TransportEvents;
  errors: BrokerErrors;
  /** Re-declares the rest of the subscription's topology (retry and dead-letter queues) after a re-attach. */
  redeclare(): void;
  /** Back-off between failed attach attempts, in ms. */
  retryLowMs: number;
  retryHighMs: number;
}

/** One channel's life: its consumer, its acks, and the deliveries it holds. */
class ChannelRun {
  consumerTag = '';
  /** The channel is gone (closed by either side, or its connection dropped): its delivery tags mean nothing now. */
  dead = false;
  /** The broker cancelled the consumer (queue deleted…); the channel lives on for the running handlers' settlements. */
  cancelled = false;
  running = 0;
  /** Delivered but not started: the concurrency limit is reached. */
  readonly waiting: AsyncMessage[] = [];
  readonly acks: AckBatch;
  error?: Error;
  constructor(readonly channel: Channel) {
    this.acks = new AckBatch(channel);
  }
}

/**
 * A consumer on rabbitmq-client's public channel API (`acquire`, `basicQos`, `basicConsume`,
 * `basicAck` / `basicNack`), owned by Warren so that nothing a handler does can hold it:
 *
 * - It is `attached` from consume-ok until the channel or its connection is lost, or the broker
 *   cancels it; every change is reported through `onSubscriptionChange`.
 * - After a loss, re-attaching starts at once on a new channel (topology re-declared, basic.consume)
 *   and never waits for running handlers. A handler still running from a dead channel finishes; its
 *   settlement is dropped (its delivery tag died with the channel) and reported once through
 *   `onSettlementDropped`; the broker redelivers the message.
 * - The concurrency limit counts the handlers of the current channel: handlers stranded on a dead
 *   channel do not starve the new one.
 */
export class AmqpSubscription implements Subscription {
  attached = false;
  private current?: ChannelRun;
  private readonly runs = new Set<ChannelRun>();
  private readonly handlers = new Set<Promise<void>>();
  private attachedBefore = false;
  private attaching = false;
  private closing = false;
  private lastError?: Error;
  private readyWaiters: Array<(error?: Error) => void> = [];
  private retryTimer?: NodeJS.Timeout;
  private awaitingConnection = false;
  private delayMs: number;

  constructor(private readonly options: SubscribeOptions, private readonly handler: DeliveryHandler, private readonly deps: ConsumerDeps) {
    this.delayMs = deps.retryLowMs;
  }

  get queue(): string {
    return this.options.queue;
  }

  /**
   * Attaches, resolving on the first consume-ok. A first attach the broker refuses (no read
   * permission, queue missing or declared otherwise, exclusive elsewhere) fails at once with a typed
   * error instead of being retried until the timeout.
   */
  start(timeoutMs: number): Promise<void> {
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new ConnectionError('CONNECTION', `The consumer on queue "${this.queue}" did not attach within ${timeoutMs} ms${this.lastError ? `: ${this.deps.errors.clean(this.lastError)}` : ''}`));
      }, timeoutMs);
      this.readyWaiters.push((error) => { clearTimeout(timer); if (error) reject(error); else resolve(); });
    });
    this.attach();
    return ready;
  }

  private attach(): void {
    if (this.attaching || this.closing || this.current) return;
    this.attaching = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.attachOnce().then(() => {
      this.attaching = false;
      this.delayMs = this.deps.retryLowMs;
    }, (error: Error & { code?: string }) => {
      this.attaching = false;
      this.lastError = error;
      if (error instanceof InvalidStreamOffsetError) {
        // Never sent (RabbitMQ would close the connection); trying again would give the same value.
        this.deps.events.onError?.(error);
        for (const settle of this.readyWaiters.splice(0)) settle(error);
        return;
      }
      if (!this.attachedBefore && error.code !== undefined && REFUSALS.has(error.code)) {
        const typed = this.deps.errors.topology(error);
        for (const settle of this.readyWaiters.splice(0)) settle(typed);
        return;
      }
      this.deps.events.onError?.(error);
      if (this.closing) return;
      this.retryTimer = setTimeout(() => this.attach(), this.delayMs);
      this.delayMs = Math.min(this.delayMs * 2, this.deps.retryHighMs);
      // While the connection is down, acquire() gives up after its own timeout: try again the moment
      // it is back instead of after the back-off.
      if (!this.deps.connection.ready && !this.awaitingConnection) {
        this.awaitingConnection = true;
        this.deps.connection.once('connection', () => { this.awaitingConnection = false; this.attach(); });
      }
    });
  }

  private async attachOnce(): Promise<void> {
    const given = this.options.arguments;
    const args = typeof given === 'function' ? given() : given;
    assertStreamOffsetArgument(args, this.queue);
    const channel = await this.deps.connection.acquire({ emitErrorsFromChannel: true });
    keepRawBodies(channel);
    const run = new ChannelRun(channel);
    this.runs.add(run);
    channel.on('error', (error: Error) => { run.error = error; this.lastError = error; });
    channel.once('close', () => this.lost(run));
    channel.on('basic.cancel', (_tag: string, error: Error) => this.cancelled(run, error));
    try {
      await declareConsumerTopology(channel, this.queue, this.options.topology ?? {});
      await channel.basicQos({ prefetchCount: this.options.prefetch });
      const ok = await channel.basicConsume(
        { queue: this.queue, exclusive: this.options.exclusive ?? false, arguments: args, noAck: false },
        (message) => this.deliver(run, message),
      );
      run.consumerTag = ok.consumerTag;
    } catch (error) {
      await channel.close().catch(() => undefined);
      throw error;
    }
    if (run.dead) throw run.error ?? new WarrenError('CHANNEL_CLOSED', `The channel of the consumer on queue "${this.queue}" closed while it attached.`);
    if (this.closing) {
      await this.closeRun(run);
      return;
    }
    this.current = run;
    this.attached = true;
    if (this.attachedBefore) this.deps.redeclare();
    this.attachedBefore = true;
    this.deps.events.onSubscriptionChange?.(this.queue, true);
    for (const settle of this.readyWaiters.splice(0)) settle();
  }

  /** The channel is gone, whoever closed it. */
  private lost(run: ChannelRun): void {
    run.dead = true;
    run.waiting.length = 0; // never started; the broker redelivers them
    if (run.running === 0) this.runs.delete(run);
    if (this.current !== run) return;
    this.current = undefined;
    this.detached(run.error ?? new WarrenError('CHANNEL_CLOSED', `The channel of the consumer on queue "${this.queue}" closed (connection lost or closed by the broker).`));
  }

  /** basic.cancel from the broker: the queue was deleted, or a cluster node holding it went away. */
  private cancelled(run: ChannelRun, error: Error): void {
    run.cancelled = true;
    // Not started yet: back to the queue now. The running handlers still settle on this channel,
    // which closes once they are done.
    for (const message of run.waiting.splice(0)) this.giveBack(run, message);
    if (run.running === 0) void this.closeRun(run);
    if (this.current !== run) return;
    this.current = undefined;
    this.detached(new WarrenError('CONSUMER_CANCELLED', `The broker cancelled the consumer on queue "${this.queue}" (queue deleted or unavailable): ${error.message}.`, { cause: error }));
  }

  private detached(error: Error): void {
    this.lastError = error;
    if (this.attached) {
      this.attached = false;
      if (!this.closing) this.deps.events.onSubscriptionChange?.(this.queue, false, error);
    }
    this.attach();
  }

  private deliver(run: ChannelRun, message: AsyncMessage): void {
    if (run.dead) return;
    if (this.closing || run.cancelled) {
      this.giveBack(run, message);
      return;
    }
    if (run.running < this.options.concurrency) this.run(run, message);
    else run.waiting.push(message);
  }

  private run(run: ChannelRun, message: AsyncMessage): void {
    run.running++;
    const handled = this.handle(run, message).finally(() => {
      this.handlers.delete(handled);
      run.running--;
      while (!run.dead && !run.cancelled && !this.closing && run.running < this.options.concurrency && run.waiting.length > 0) {
        this.run(run, run.waiting.shift()!);
      }
      if (run.running === 0 && (run.dead || run.cancelled)) {
        if (run.dead) this.runs.delete(run);
        else void this.closeRun(run);
      }
    });
    this.handlers.add(handled);
  }

  private async handle(run: ChannelRun, message: AsyncMessage): Promise<void> {
    let settlement: Settlement;
    try {
      settlement = await this.handler(toDelivery(message, this.queue));
    } catch (error) {
      // The pipeline never throws; if it does, that is a bug: reject (never requeue, no loop).
      this.deps.events.onError?.(error instanceof Error ? error : new Error(String(error)));
      settlement = 'reject';
    }
    if (run.dead) {
      this.deps.events.onSettlementDropped?.(this.queue, settlement);
      return;
    }
    if (this.options.stream) {
      // A stream takes no nack (RabbitMQ closes the connection): 'reject' is acknowledged, and
      // 'requeue' stays unacknowledged until the channel goes; the reader reads it again then.
      if (settlement !== 'requeue') run.acks.ack(message.deliveryTag);
      return;
    }
    if (settlement === 'ack') run.acks.ack(message.deliveryTag);
    else run.acks.nack(message.deliveryTag, settlement === 'requeue');
  }

  /** A delivery not started: back to the queue (a stream keeps it; it is read again after a re-attach). */
  private giveBack(run: ChannelRun, message: AsyncMessage): void {
    if (!this.options.stream) run.acks.nack(message.deliveryTag, true);
  }

  /** Sends the channel's pending acks and closes it; the broker requeues whatever is still unacknowledged. */
  private async closeRun(run: ChannelRun): Promise<void> {
    this.runs.delete(run);
    if (run.dead) return;
    run.acks.flush();
    await run.channel.close().catch(() => undefined);
  }

  /**
   * Stops new deliveries (basic.cancel), returns the ones not started to the queue, waits up to
   * `timeoutMs` for running handlers, then closes the channel. Handlers still running at the
   * deadline lose their delivery tags: their messages go back to the queue when the channel (or, if
   * the broker does not answer, the connection) is closed, and their settlements are dropped.
   */
  async close(timeoutMs = Number.POSITIVE_INFINITY): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    if (this.closing) return;
    this.closing = true;
    clearTimeout(this.retryTimer);
    this.attached = false;
    for (const settle of this.readyWaiters.splice(0)) settle(new ConnectionError('CLOSED', `The consumer on queue "${this.queue}" was closed before it attached.`));
    const run = this.current;
    this.current = undefined;
    if (run && !run.dead) {
      await within(run.channel.basicCancel(run.consumerTag).catch(() => undefined), Math.min(deadline - Date.now(), 5_000));
      for (const message of run.waiting.splice(0)) this.giveBack(run, message);
    }
    await within(Promise.allSettled([...this.handlers]), deadline - Date.now());
    await within(Promise.allSettled([...this.runs].map((r) => this.closeRun(r))), deadline - Date.now());
  }
}

/** Waits for `promise`, at most `ms` (never rejects). */
function within(promise: Promise<unknown>, ms: number): Promise<void> {
  if (!(ms > 0)) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = Number.isFinite(ms) ? setTimeout(resolve, ms) : undefined;
    promise.then(() => { clearTimeout(timer); resolve(); }, () => { clearTimeout(timer); resolve(); });
  });
}
