import type { MessageProperties } from '../../transport';

/**
 * A message's bytes and properties as the broker holds them. The broker owns this copy and never
 * mutates it or hands it out, so every queue a message was routed to (and its dead-lettered
 * descendants) can share it; consumers get their own copies.
 */
export interface MessageContent {
  readonly body: Buffer;
  readonly properties: MessageProperties;
  /** The per-message TTL parsed from `expiration`, in ms. */
  readonly ttl: number | undefined;
}

/** One message in one queue: a queue's own view of shared content. */
export class QueuedMessage {
  redelivered = false;

  constructor(
    readonly content: MessageContent,
    /** The exchange it was published (or dead-lettered) to. */
    readonly exchange: string,
    readonly routingKey: string,
    /** Order within the queue; a requeued message goes back to its place by this number. */
    readonly sequence: number,
    /** `Date.now()` value at which it expires, or Infinity. */
    readonly expiresAt: number,
  ) {}
}

export function precedes(a: QueuedMessage, b: QueuedMessage): boolean {
  return a.sequence < b.sequence;
}
