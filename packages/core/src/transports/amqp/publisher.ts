import { randomUUID } from 'node:crypto';
import type { Connection, Publisher, ReturnedMessage } from 'rabbitmq-client';
import { PublishTimeoutError, UnroutableError } from '../../errors';
import type { OutgoingMessage, PublishOptions } from '../../transport';
import type { BrokerErrors } from './errors';
import { toEnvelope } from './message';

/**
 * Publishing on the publish connection: one confirming and one plain rabbitmq-client `Publisher`,
 * created on first use. A mandatory publish resolves only if no basic.return came for it.
 */
export class AmqpPublisher {
  private confirmPublisher?: Publisher;
  private plainPublisher?: Publisher;
  /** Mandatory publishes awaiting their confirm, by messageId + route; set when the broker returns one. */
  private readonly pendingMandatory = new Map<string, { returned: boolean }>();

  constructor(private readonly connection: Connection, private readonly errors: BrokerErrors, private readonly timeoutMs: number) {}

  async publish(message: OutgoingMessage, options: PublishOptions = {}): Promise<void> {
    const confirm = options.confirm ?? true;
    const publisher = confirm ? (this.confirmPublisher ??= this.create(true)) : (this.plainPublisher ??= this.create(false));
    const envelope = toEnvelope(message);
    if (!confirm) {
      try {
        await publisher.send(envelope, message.body);
      } catch (err) {
        throw this.errors.publish(err, message);
      }
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
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    try {
      await withTimeout(publisher.send(envelope, message.body), timeoutMs, () => new PublishTimeoutError(message.exchange, message.routingKey, timeoutMs));
      if (tracking) {
        // basic.return precedes the ack on the wire, but rabbitmq-client emits it one macrotask
        // later than it resolves the confirm: wait one turn so the return is seen.
        await nextTurn();
        if (tracking.returned) throw new UnroutableError(message.exchange, message.routingKey);
      }
    } catch (err) {
      throw this.errors.publish(err, message);
    } finally {
      if (tracking) this.pendingMandatory.delete(key);
    }
  }

  /** Closes both publishers (their channels); pending confirms are rejected by the client. */
  async close(): Promise<void> {
    await Promise.allSettled([this.confirmPublisher?.close(), this.plainPublisher?.close()]);
  }

  private create(confirm: boolean): Publisher {
    const publisher = this.connection.createPublisher({ confirm, maxAttempts: 1 });
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

let turn: Promise<void> | undefined;

/**
 * Resolves after the current macrotask, shared by every caller in the same turn: with 1,000
 * mandatory publishes in flight, one setImmediate per turn instead of one per message.
 */
function nextTurn(): Promise<void> {
  turn ??= new Promise<void>((resolve) => setImmediate(() => { turn = undefined; resolve(); }));
  return turn;
}
