import type { FieldTable, QueueSpec } from '../../transport';
import type { QueueSettings } from './topology';
import type { DeathReason } from './dead-letter';
import { Deque } from './deque';
import { precedes, QueuedMessage, type MessageContent } from './message';

/** The longest delay Node's setTimeout honours (2^31 − 1 ms); longer ones fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What a queue needs of a consumer attached to it (a QueueConsumer). */
export interface QueueListener {
  readonly exclusive: boolean;
  /** `x-priority` (0 when not given). */
  readonly priority: number;
  readonly hasCapacity: boolean;
  /** The message is now unacknowledged by this consumer. */
  deliver(message: QueuedMessage): void;
  /** The queue was deleted. */
  cancelledByBroker(): void;
}

export interface QueueOwner {
  /** Routes a copy of `message` to the queue's dead-letter exchange, if it has one. */
  deadLetter(queue: MemoryQueue, message: QueuedMessage, reason: DeathReason): void;
  /** The last consumer of an auto-delete queue went away. */
  autoDelete(queue: MemoryQueue): void;
}

/**
 * One classic queue: ready messages in FIFO order, consumers served round-robin within their
 * prefetch, requeued messages back at their original position, max-length overflow and message TTL.
 *
 * Expiry follows RabbitMQ: a message expires only at the head of the queue, so a message with a short
 * per-message TTL behind one with a long TTL waits for it. One timer per queue fires at the head's
 * expiry, so an expiring message is dead-lettered on time even with no consumer attached.
 */
export class MemoryQueue {
  readonly kind = 'queue';
  private readonly ready = new Deque<QueuedMessage>();
  private readyBytes = 0;
  private readonly consumerList: QueueListener[] = [];
  private nextConsumer = 0;
  /** The highest `x-priority` among the consumers: one of them with room is served without looking further. */
  private topPriority = 0;
  private sequence = 0;
  private expiryTimer: NodeJS.Timeout | undefined;
  private expiryDue = Infinity;
  private hadConsumer = false;
  deleted = false;
  /** Marks the queue as already chosen in the routing pass numbered so (dedup without a Set). */
  routingPass = 0;

  constructor(
    readonly name: string,
    readonly durable: boolean,
    readonly exclusive: boolean,
    readonly autoDelete: boolean,
    readonly args: FieldTable | undefined,
    readonly settings: QueueSettings,
    private readonly owner: QueueOwner,
  ) {}

  static fromSpec(spec: QueueSpec, settings: QueueSettings, owner: QueueOwner): MemoryQueue {
    return new MemoryQueue(spec.name, spec.durable ?? true, spec.exclusive ?? false, spec.autoDelete ?? false, spec.arguments, settings, owner);
  }

  /** Ready messages: what `queue.declare-ok` reports (unacknowledged ones are not counted). */
  get messageCount(): number {
    this.dropExpired();
    return this.ready.length;
  }

  get consumers(): readonly QueueListener[] {
    return this.consumerList;
  }

  /**
   * Takes a routed message. Returns false when the queue refuses it (`reject-publish` overflow), so
   * the publisher's confirm becomes a nack.
   */
  enqueue(content: MessageContent, exchange: string, routingKey: string): boolean {
    const settings = this.settings;
    if (settings.overflow !== 'drop-head' && this.wouldOverflow(content.body.length)) {
      if (settings.overflow === 'reject-publish-dlx') {
        this.owner.deadLetter(this, new QueuedMessage(content, exchange, routingKey, ++this.sequence, Infinity), 'maxlen');
      }
      return false;
    }
    const message = new QueuedMessage(content, exchange, routingKey, ++this.sequence, this.expiryOf(content));
    if (this.ready.length === 0) {
      const consumer = this.consumerWithCapacity();
      if (consumer) {
        consumer.deliver(message);
        return true;
      }
    }
    this.ready.push(message);
    this.readyBytes += content.body.length;
    const droppedHead = settings.overflow === 'drop-head' && this.dropHeadOverLimit();
    // Only a new head (or a dropped one) can change when the head expires.
    if (droppedHead || this.ready.length === 1) this.expireAndArm();
    return true;
  }

  /** basic.get: the head message, now owned by the caller until settled. */
  take(): QueuedMessage | undefined {
    this.dropExpired();
    const message = this.ready.shift();
    if (message) this.readyBytes -= message.content.body.length;
    this.armExpiry();
    return message;
  }

  /** basic.nack(requeue) or a consumer going away: the message goes back where it was, flagged. */
  requeue(message: QueuedMessage): void {
    if (this.deleted) return;
    message.redelivered = true;
    this.ready.insertOrdered(message, precedes);
    this.readyBytes += message.content.body.length;
    this.expireAndArm();
  }

  /** basic.nack(requeue: false): dead-letter (or drop) with reason `rejected`. */
  reject(message: QueuedMessage): void {
    if (!this.deleted) this.owner.deadLetter(this, message, 'rejected');
  }

  /** Hands ready messages to consumers with room, round-robin. */
  dispatch(): void {
    if (this.consumerList.length === 0) return;
    while (this.ready.length > 0) {
      const head = this.ready.peek()!;
      if (head.expiresAt !== Infinity && head.expiresAt <= Date.now()) {
        this.removeHead();
        this.owner.deadLetter(this, head, 'expired');
        continue;
      }
      const consumer = this.consumerWithCapacity();
      if (!consumer) break;
      this.removeHead();
      consumer.deliver(head);
    }
    this.armExpiry();
  }

  addConsumer(consumer: QueueListener): void {
    this.consumerList.push(consumer);
    this.topPriority = Math.max(...this.consumerList.map((c) => c.priority));
    this.hadConsumer = true;
    this.dispatch();
  }

  /** Detaches a consumer; an auto-delete queue goes with its last one. */
  removeConsumer(consumer: QueueListener): void {
    const index = this.consumerList.indexOf(consumer);
    if (index === -1) return;
    this.consumerList.splice(index, 1);
    if (this.nextConsumer > index) this.nextConsumer--;
    this.topPriority = this.consumerList.length ? Math.max(...this.consumerList.map((c) => c.priority)) : 0;
    // Single active consumer: the next one in line takes over, with what is ready.
    if (this.settings.singleActiveConsumer && index === 0) this.dispatch();
    if (this.autoDelete && this.hadConsumer && this.consumerList.length === 0) this.owner.autoDelete(this);
  }

  /** Removes the ready messages (not the unacknowledged ones); returns how many. */
  purge(): number {
    const count = this.ready.length;
    this.ready.drain();
    this.readyBytes = 0;
    this.armExpiry();
    return count;
  }

  /** Deleted: consumers are cancelled, messages dropped, the expiry timer stopped. */
  destroy(): void {
    this.deleted = true;
    this.ready.drain();
    this.readyBytes = 0;
    this.clearExpiryTimer();
    for (const consumer of this.consumerList.splice(0)) consumer.cancelledByBroker();
  }

  /**
   * Who gets the next message: with single active consumer, the one attached first (the others wait
   * their turn); otherwise, in turn, a consumer with room among those of the highest priority that
   * have room (RabbitMQ's consumer priorities).
   */
  private consumerWithCapacity(): QueueListener | undefined {
    const consumers = this.consumerList;
    if (this.settings.singleActiveConsumer) return consumers[0]?.hasCapacity ? consumers[0] : undefined;
    const count = consumers.length;
    let best: QueueListener | undefined;
    let bestIndex = -1;
    for (let i = 0; i < count; i++) {
      const index = (this.nextConsumer + i) % count;
      const consumer = consumers[index]!;
      if (!consumer.hasCapacity || (best && consumer.priority <= best.priority)) continue;
      best = consumer;
      bestIndex = index;
      if (consumer.priority === this.topPriority) break;
    }
    // Whoever just received goes to the back of the line, as in RabbitMQ.
    if (best) this.nextConsumer = (bestIndex + 1) % count;
    return best;
  }

  private wouldOverflow(size: number): boolean {
    const { maxLength, maxLengthBytes } = this.settings;
    return (maxLength !== undefined && this.ready.length + 1 > maxLength)
      || (maxLengthBytes !== undefined && this.readyBytes + size > maxLengthBytes);
  }

  /** drop-head: dead-letters the oldest ready messages (reason `maxlen`) until within the limits. */
  private dropHeadOverLimit(): boolean {
    const { maxLength, maxLengthBytes } = this.settings;
    let dropped = false;
    while (this.ready.length > 0
      && ((maxLength !== undefined && this.ready.length > maxLength) || (maxLengthBytes !== undefined && this.readyBytes > maxLengthBytes))) {
      const head = this.removeHead();
      this.owner.deadLetter(this, head, 'maxlen');
      dropped = true;
    }
    return dropped;
  }

  private expiryOf(content: MessageContent): number {
    const queueTtl = this.settings.messageTtl;
    const ttl = queueTtl === undefined ? content.ttl : content.ttl === undefined ? queueTtl : Math.min(queueTtl, content.ttl);
    return ttl === undefined ? Infinity : Date.now() + ttl;
  }

  private removeHead(): QueuedMessage {
    const head = this.ready.shift()!;
    this.readyBytes -= head.content.body.length;
    return head;
  }

  private dropExpired(): void {
    let now = 0;
    while (this.ready.length > 0) {
      const head = this.ready.peek()!;
      if (head.expiresAt === Infinity) return;
      now ||= Date.now();
      if (head.expiresAt > now) return;
      this.removeHead();
      this.owner.deadLetter(this, head, 'expired');
    }
  }

  private expireAndArm(): void {
    this.dropExpired();
    this.armExpiry();
  }

  private armExpiry(): void {
    const head = this.ready.peek();
    if (!head || head.expiresAt === Infinity || this.expiryDue <= head.expiresAt) return;
    this.clearExpiryTimer();
    this.expiryDue = head.expiresAt;
    // +1 ms: a timer may fire in the millisecond before Date.now() reaches the due time. Node fires
    // a longer timeout than MAX_TIMER_MS at once, so a long TTL (the delay cascade's top levels
    // hold up to 2^31 ms) is waited out in steps: the timer re-arms until the head is due.
    this.expiryTimer = setTimeout(() => {
      this.expiryTimer = undefined;
      this.expiryDue = Infinity;
      this.expireAndArm();
      this.dispatch();
    }, Math.min(MAX_TIMER_MS, Math.max(0, head.expiresAt - Date.now()) + 1));
    // Like a message sitting in RabbitMQ, a pending expiry does not keep the process alive.
    this.expiryTimer.unref();
  }

  private clearExpiryTimer(): void {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    this.expiryDue = Infinity;
  }
}
