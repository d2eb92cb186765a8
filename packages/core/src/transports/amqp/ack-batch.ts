import type { Connection } from 'rabbitmq-client';

/**
 * Coalesces a consumer channel's acks into one `basic.ack multiple` per event-loop turn.
 * rabbitmq-client's Consumer acks every message with its own frame and socket write; on this
 * machine that write was the single largest client cost of a drain (bench: 22.8k → 31.8k validated
 * msgs/s), and the broker pays for every frame too. Like raw-body.ts this wraps a client
 * internal (Channel.prototype), for Warren's consume connections only; rabbitmq-client is pinned.
 *
 * Delivery tags on a channel are consecutive, so the acks of a contiguous run of settled tags
 * become one `multiple` ack; tags settled ahead of a gap (a handler still running) are acked one by
 * one at the end of the turn, so a slow handler never holds other messages' prefetch slots. A nack
 * first flushes the acks before it (a later `multiple` ack must never cover a nacked tag).
 */
const batchedConnections = new WeakSet<object>();
let installed = false;

interface ChannelInternals {
  _conn: object;
  basicAck(params: { deliveryTag: number; multiple?: boolean }): void;
  basicNack(params: { deliveryTag: number; requeue?: boolean; multiple?: boolean }): void;
  close(): Promise<void>;
  once(event: 'close', listener: () => void): unknown;
}

class AckBatch {
  /** The lowest tag not yet settled. */
  private next = 1;
  private readonly acked = new Set<number>();
  /** Tags already settled out of order (acked alone, or nacked), skipped when the prefix advances. */
  private readonly settledAhead = new Set<number>();
  private scheduled = false;

  constructor(private readonly channel: ChannelInternals, private readonly ack: ChannelInternals['basicAck'], private readonly nack: ChannelInternals['basicNack']) {}

  add(tag: number): void {
    this.acked.add(tag);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  nackNow(params: { deliveryTag: number; requeue?: boolean; multiple?: boolean }): void {
    this.flush();
    this.nack.call(this.channel, params);
    this.settledAhead.add(params.deliveryTag);
    this.advance();
  }

  flush(): void {
    this.scheduled = false;
    try {
      this.flushNow();
    } catch {
      // The channel closed under us: its unacked messages are redelivered (at-least-once).
    }
  }

  private flushNow(): void {
    const before = this.next;
    this.advance();
    if (this.next > before && this.lastAckedInPrefix !== 0) this.ack.call(this.channel, { deliveryTag: this.lastAckedInPrefix, multiple: true });
    this.lastAckedInPrefix = 0;
    for (const tag of this.acked) {
      this.ack.call(this.channel, { deliveryTag: tag });
      this.settledAhead.add(tag);
    }
    this.acked.clear();
  }

  private lastAckedInPrefix = 0;

  private advance(): void {
    for (;;) {
      if (this.acked.delete(this.next)) this.lastAckedInPrefix = this.next;
      else if (!this.settledAhead.delete(this.next)) return;
      this.next++;
    }
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Channel } = require('rabbitmq-client/lib/Channel') as { Channel: { prototype: ChannelInternals } };
  const ack = Channel.prototype.basicAck;
  const nack = Channel.prototype.basicNack;
  const batches = new WeakMap<object, AckBatch>();
  const batchOf = (channel: ChannelInternals) => {
    let batch = batches.get(channel);
    if (!batch) {
      batch = new AckBatch(channel, ack, nack);
      batches.set(channel, batch);
    }
    return batch;
  };
  Channel.prototype.basicAck = function basicAck(this: ChannelInternals, params) {
    if (params.multiple || !batchedConnections.has(this._conn)) return ack.call(this, params);
    batchOf(this).add(params.deliveryTag);
  };
  const close = Channel.prototype.close;
  // Closing a channel drops its unacked messages back to the queue: send the pending acks first.
  Channel.prototype.close = function closeAfterAcks(this: ChannelInternals) {
    batches.get(this)?.flush();
    return close.call(this);
  };
  Channel.prototype.basicNack = function basicNack(this: ChannelInternals, params) {
    if (params.multiple || !batchedConnections.has(this._conn)) return nack.call(this, params);
    batchOf(this).nackNow(params);
  };
}

/** Makes consumer channels of `connection` coalesce their acks per event-loop turn. */
export function batchAcks(connection: Connection): void {
  install();
  batchedConnections.add(connection);
}
