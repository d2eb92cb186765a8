import { randomUUID } from 'node:crypto';
import type { Connection, Publisher, ReturnedMessage } from 'rabbitmq-client';
import { ConnectionError, PublishError, PublishTimeoutError, UnroutableError } from '../../errors';
import type { OutgoingMessage, PublishOptions } from '../../transport';
import type { BrokerErrors } from './errors';
import { toEnvelope } from './message';
import { Permits } from './permits';

/** What a publisher needs from its transport. */
export interface PublisherDeps {
  connection: Connection;
  errors: BrokerErrors;
  /** Default confirm timeout (ms). */
  timeoutMs: number;
  /** Publishes in flight at once (sent, not yet confirmed); beyond it `publish()` waits its turn. */
  maxInFlight: number;
  /**
   * Re-declares an exchange the broker said does not exist, with its bindings, if Warren declared
   * it; resolves false when Warren does not know it (or could not declare it again).
   */
  redeclareExchange(exchange: string): Promise<boolean>;
  /** A publish to `exchange` succeeded, or failed after the one retry. */
  onOutcome?(exchange: string, error?: Error): void;
}

/**
 * Publishing on the publish connection: one confirming and one plain rabbitmq-client `Publisher`,
 * created on first use. A mandatory publish resolves only if no basic.return came for it.
 *
 * Back-pressure: at most `maxInFlight` publishes are sent and unconfirmed at once; the others wait
 * in arrival order, holding only their own message (and fail, unsent, only when no publish at all has
 * completed for a confirm timeout). The confirm timeout starts when a publish gets
 * its permit and is handed to the client, never while it waits behind the bound. (The client
 * writes a frame to the socket from an internal stream whose progress it does not expose; with the
 * bound, what sits in that stream is at most `maxInFlight` messages, which the socket drains in
 * milliseconds, instead of every message the caller ever issued.)
 *
 * Self-healing: a publish that fails because its exchange is gone (`NOT_FOUND`) gets the exchange
 * re-declared, when Warren declared it, and is sent once more. The broker closes the channel for it,
 * and the client rejects every unconfirmed publish of that channel: the first one with the broker's
 * `NOT_FOUND`, whichever publish the broker refused, the others with `CH_CLOSE`. So the exchange is
 * read from the error, not assumed to be the message's: a publish blamed for another exchange, or
 * rejected with `CH_CLOSE`, is sent once more (it may have been routed: at least once), but one to
 * the missing exchange only after the re-declaration, and not at all when that failed.
 */
export class AmqpPublisher {
  private confirmPublisher?: Publisher;
  private plainPublisher?: Publisher;
  private readonly permits: Permits;
  private closed = false;
  /** Mandatory publishes awaiting their confirm, by messageId + route; set when the broker returns one. */
  private readonly pendingMandatory = new Map<string, { returned: boolean }>();
  /**
   * Exchanges a channel closure just reported missing, with the broker's error and the outcome of
   * their re-declaration: for the publishes the same closure rejected with `CH_CLOSE`.
   */
  private readonly refusals = new Map<string, { error: unknown; healed: Promise<boolean> }>();

  constructor(private readonly deps: PublisherDeps) {
    // A caller waiting behind the bound fails only when nothing has completed for a whole confirm
    // timeout: every permit is then held by a publish the broker is not confirming.
    this.permits = new Permits(deps.maxInFlight, deps.timeoutMs, () => new PublishError(
      `This message was not sent: ${deps.maxInFlight} publishes are in flight and none has been confirmed for ${deps.timeoutMs} ms (the broker is blocked by a resource alarm, or unreachable). Publish again later.`,
    ));
  }

  publish(message: OutgoingMessage, options: PublishOptions = {}): Promise<void> {
    if (this.permits.tryTake()) return this.publishWithPermit(message, options);
    return this.permits.take().then(() => this.publishWithPermit(message, options));
  }

  private async publishWithPermit(message: OutgoingMessage, options: PublishOptions): Promise<void> {
    // The permit goes back when the client is done with the message (confirmed, refused, or its
    // channel gone), not when the caller stops waiting: a timed-out publish still sits in the client.
    const attempt: { sent?: Promise<unknown> } = {};
    try {
      try {
        await this.publishOnce(message, options, attempt);
      } catch (err) {
        await this.mayResend(err, message);
        await this.publishOnce(message, options, attempt);
      }
      this.deps.onOutcome?.(message.exchange);
    } catch (err) {
      const error = this.deps.errors.publish(err, message);
      this.deps.onOutcome?.(message.exchange, error);
      throw error;
    } finally {
      if (attempt.sent) attempt.sent.then(this.give, this.give);
      else this.permits.give();
    }
  }

  private readonly give = (): void => this.permits.give();

  /**
   * Resolves when a failed publish may be sent once more: its exchange was missing and is back, or
   * its channel closed under it for another publish. Rejects with the error to report otherwise.
   */
  private async mayResend(err: unknown, message: OutgoingMessage): Promise<void> {
    const code = (err as { code?: unknown })?.code;
    if (code === 'CH_CLOSE' && !this.closed) {
      // The publish given the broker's NOT_FOUND was rejected in the same turn: by the next, the
      // missing exchange is recorded, and its re-declaration under way.
      await nextTurn();
      const refusal = this.refusals.get(message.exchange);
      if (refusal && !(await refusal.healed)) throw refusal.error;
      return;
    }
    const missing = code === 'NOT_FOUND' ? /no exchange '((?:[^'\\]|\\.)*)' in vhost/.exec((err as Error).message)?.[1] : undefined;
    if (missing === undefined) throw err;
    const healed = this.redeclare(missing, err);
    // Blamed for another publish's exchange: this one's exchange exists; it goes again at once.
    if (missing !== message.exchange) return;
    if (!(await healed)) throw err;
  }

  /** Re-declares an exchange the broker reported missing (once for every publish that learns it together), recorded for {@link mayResend}. */
  private redeclare(exchange: string, error: unknown): Promise<boolean> {
    const known = this.refusals.get(exchange);
    if (known) return known.healed;
    const refusal = { error, healed: this.deps.redeclareExchange(exchange).catch(() => false) };
    this.refusals.set(exchange, refusal);
    // Kept one turn past its outcome: a publish rejected with CH_CLOSE by the same closure reads it a turn later.
    const forget = () => { if (this.refusals.get(exchange) === refusal) this.refusals.delete(exchange); };
    void refusal.healed.then(() => setImmediate(() => setImmediate(forget)));
    return refusal.healed;
  }

  private async publishOnce(message: OutgoingMessage, options: PublishOptions, attempt: { sent?: Promise<unknown> }): Promise<void> {
    const confirm = options.confirm ?? true;
    const publisher = confirm ? (this.confirmPublisher ??= this.create(true)) : (this.plainPublisher ??= this.create(false));
    const envelope = toEnvelope(message);
    if (!confirm) {
      await (attempt.sent = publisher.send(envelope, message.body));
      return;
    }
    let tracking: { returned: boolean } | undefined;
    let key = '';
    if (message.mandatory) {
      envelope.messageId ??= randomUUID();
      key = `${envelope.messageId}\u0000${message.exchange}\u0000${message.routingKey}`;
      tracking = this.pendingMandatory.get(key) ?? { returned: false };
      this.pendingMandatory.set(key, tracking);
    }
    const timeoutMs = options.timeoutMs ?? this.deps.timeoutMs;
    try {
      await withTimeout(attempt.sent = publisher.send(envelope, message.body), timeoutMs, () => new PublishTimeoutError(message.exchange, message.routingKey, timeoutMs));
      if (tracking) {
        // basic.return precedes the ack on the wire, but rabbitmq-client emits it one macrotask
        // later than it resolves the confirm: wait one turn so the return is seen.
        await nextTurn();
        if (tracking.returned) throw new UnroutableError(message.exchange, message.routingKey);
      }
    } finally {
      if (tracking) this.pendingMandatory.delete(key);
    }
  }

  /** Closes both publishers (their channels); pending confirms are rejected by the client, waiting publishes fail. */
  async close(): Promise<void> {
    this.closed = true;
    this.permits.rejectWaiting(new ConnectionError('CLOSED', 'The transport closed before this message could be published; it was not sent.'));
    await Promise.allSettled([this.confirmPublisher?.close(), this.plainPublisher?.close()]);
  }

  private create(confirm: boolean): Publisher {
    const publisher = this.deps.connection.createPublisher({ confirm, maxAttempts: 1 });
    publisher.on('basic.return', (returned: ReturnedMessage) => {
      const tracking = this.pendingMandatory.get(`${returned.messageId}\u0000${returned.exchange}\u0000${returned.routingKey}`);
      if (tracking) tracking.returned = true;
    });
    return publisher;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  if (!(ms > 0) || !Number.isFinite(ms)) return promise;
  // One promise and one timer per call (Promise.race + finally allocated three more per publish).
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), ms);
    promise.then((value) => { clearTimeout(timer); resolve(value); }, (error: unknown) => { clearTimeout(timer); reject(error); });
  });
}

/**
 * Resolves after the macrotask in which rabbitmq-client emits a `basic.return` for a confirm it
 * has just resolved. Each publish queues its own setImmediate, after the client's: a turn shared
 * with publishes confirmed earlier could fire before this message's return was emitted, and an
 * unroutable mandatory message would then count as delivered.
 */
function nextTurn(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}
