import type { FieldTable, MessageProperties } from '../../transport';

/** Why a queue dead-lettered a message, as RabbitMQ writes it into `x-death`. */
export type DeathReason = 'rejected' | 'expired' | 'maxlen';

export interface Death {
  reason: DeathReason;
  queue: string;
  /** The exchange the message had been published (or dead-lettered) to. */
  exchange: string;
  /** Its routing key and any `CC` keys: what RabbitMQ records as `routing-keys`. */
  routingKeys: string[];
}

/**
 * The properties of a dead-lettered copy, built as RabbitMQ 3.x's `rabbit_dead_letter` builds them:
 * - the first death also sets `x-first-death-reason`, `-queue` and `-exchange`;
 * - `x-death` holds one table per queue + reason, most recent first; dying again for the same queue
 *   and reason increments that table's `count` and moves it to the front, keeping its other fields;
 * - `expiration` is removed (recorded as `original-expiration`) so the copy does not expire again;
 * - with an explicit dead-letter routing key, `CC` is removed.
 * `time` is seconds since the epoch, which is how an AMQP timestamp reaches a client.
 */
export function deadLetteredProperties(properties: MessageProperties, death: Death, explicitRoutingKey: boolean): MessageProperties {
  const headers: FieldTable = { ...properties.headers };
  const entry: FieldTable = {
    count: 1,
    reason: death.reason,
    queue: death.queue,
    time: Math.floor(Date.now() / 1000),
    exchange: death.exchange,
    'routing-keys': death.routingKeys,
  };
  if (properties.expiration !== undefined) entry['original-expiration'] = properties.expiration;

  const previous = Array.isArray(headers['x-death']) ? (headers['x-death'] as unknown[]) : undefined;
  if (previous === undefined) {
    headers['x-first-death-reason'] = death.reason;
    headers['x-first-death-queue'] = death.queue;
    headers['x-first-death-exchange'] = death.exchange;
    headers['x-death'] = [entry];
  } else {
    const index = previous.findIndex((table) => isTable(table) && table.queue === death.queue && table.reason === death.reason);
    if (index === -1) {
      headers['x-death'] = [entry, ...previous];
    } else {
      const earlier = previous[index] as FieldTable;
      const incremented = { ...earlier, count: (typeof earlier.count === 'number' ? earlier.count : 0) + 1 };
      headers['x-death'] = [incremented, ...previous.slice(0, index), ...previous.slice(index + 1)];
    }
  }
  if (explicitRoutingKey) delete headers.CC;

  const copy: MessageProperties = { ...properties, headers };
  delete copy.expiration;
  return copy;
}

/**
 * RabbitMQ drops a dead-lettered message instead of delivering it to `queue` when the message has
 * died in `queue` before and no death since then (that one included) was a rejection: such a cycle
 * would repeat forever without any consumer deciding anything. Rejections are never checked.
 */
export function isDeadLetterCycle(headers: FieldTable | undefined, queue: string, reason: DeathReason): boolean {
  if (reason === 'rejected' || !headers || !Array.isArray(headers['x-death'])) return false;
  const deaths = headers['x-death'] as unknown[];
  for (const table of deaths) {
    // Anything but a table was put there by a client, so the cycle is not fully automatic.
    if (!isTable(table) || table.reason === 'rejected') return false;
    if (table.queue === queue) return true;
  }
  return false;
}

/** Routing keys a message carries in its `CC` and `BCC` headers (RabbitMQ's sender-selected distribution). */
export function headerRoutes(headers: FieldTable | undefined, name: 'CC' | 'BCC'): string[] {
  const keys = headers?.[name];
  return Array.isArray(keys) ? keys.filter((key): key is string => typeof key === 'string') : [];
}

function isTable(value: unknown): value is FieldTable {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !Buffer.isBuffer(value);
}
