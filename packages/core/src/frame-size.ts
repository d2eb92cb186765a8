import type { FieldTable, MessageProperties } from './transport';

/**
 * The frame size Warren negotiates with RabbitMQ (`frameMax` of the AMQP transport, RabbitMQ's
 * default `frame_max`): a message's properties travel in one content-header frame, so headers that
 * do not fit make the client refuse the publish (`CODEC`: "frame size of … bytes exceeds maximum").
 * The in-memory broker refuses the same messages, and the failure path checks its copies before
 * sending them: on RabbitMQ a refused encode can close the publishing channel under other publishes.
 */
export const FRAME_MAX = 131_072;

/** The size of a message's content-header frame payload, counted as AMQP 0-9-1 encodes it. */
export function headerFrameSize(properties: MessageProperties): number {
  let size = 14; // class id, weight, body size, property flags
  for (const key of ['contentType', 'contentEncoding', 'correlationId', 'replyTo', 'expiration', 'messageId', 'type', 'userId', 'appId'] as const) {
    const value = properties[key];
    if (value != null) size += 1 + Math.min(Buffer.byteLength(String(value)), 255);
  }
  if (properties.deliveryMode != null) size += 1;
  if (properties.priority != null) size += 1;
  if (properties.timestamp != null) size += 8;
  if (properties.headers != null) size += tableSize(properties.headers);
  return size;
}

function tableSize(table: FieldTable): number {
  let size = 4;
  for (const [key, value] of Object.entries(table)) {
    if (value === undefined || typeof value === 'function' || typeof value === 'symbol') continue;
    size += 1 + Math.min(Buffer.byteLength(key), 255) + 1 + valueSize(value);
  }
  return size;
}

function valueSize(value: unknown): number {
  if (value === null) return 0;
  if (typeof value === 'string') return 4 + Buffer.byteLength(value);
  if (typeof value === 'boolean') return 1;
  if (typeof value === 'number') return Number.isInteger(value) && value >= -2_147_483_648 && value <= 2_147_483_647 ? 4 : 8;
  if (typeof value === 'bigint' || value instanceof Date) return 8;
  if (Buffer.isBuffer(value)) return 4 + value.length;
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + 1 + valueSize(item), 4);
  if (typeof value === 'object') return tableSize(value as FieldTable);
  return 0;
}
