import type { AsyncMessage, Channel, Connection, HeaderFields, SyncMessage } from 'rabbitmq-client';
import { WarrenError } from '../../errors';
import type { Delivery, FetchedMessage, MessageProperties, OutgoingMessage } from '../../transport';
import type { BrokerErrors } from './errors';

/**
 * Makes one channel deliver every body as the raw Buffer the broker sent.
 *
 * rabbitmq-client (5.0.8, the latest release, and its main branch) decodes a body itself when the
 * content type is exactly `application/json` or `text/plain` and no content encoding is set:
 * JSON.parse on lenient UTF-8 (malformed JSON silently left as a Buffer, the original bytes gone),
 * `toString()` for text. Neither `basicConsume`, `basicGet` nor the Connection has an option to turn
 * that off, and re-encoding a parsed value does not give the bytes back (whitespace, number
 * precision, duplicate keys, invalid UTF-8). Warren needs the bytes: strict UTF-8, dead letters
 * unchanged, the raw body in the context.
 *
 * So, for Warren's own channels only (not the prototype, not other users of the library), the
 * header frame's content type is boxed in a `String` object before the channel reads it: the
 * client's `===` comparison fails, the body stays a Buffer, and {@link toDelivery} unboxes the type
 * with `String()`. This is the one place Warren relies on a client internal (`_onHeader`, stable
 * since 5.0.0); rabbitmq-client is pinned to an exact version and `test/amqp-raw-body.test.ts`
 * (JSON and text bodies compared byte for byte) fails loudly if an upgrade moves it.
 */
export function keepRawBodies(channel: Channel): void {
  const internals = channel as unknown as { _onHeader?: (frame: HeaderFrame) => void };
  const original = internals._onHeader;
  if (typeof original !== 'function') throw new Error('rabbitmq-client internals changed: Channel._onHeader is missing; install the rabbitmq-client version in @warren/core\'s package.json');
  internals._onHeader = function onHeader(this: unknown, frame: HeaderFrame) {
    const type = frame.fields.contentType;
    if (type === 'application/json' || type === 'text/plain') frame.fields.contentType = new String(type);
    return original.call(this, frame);
  };
}

interface HeaderFrame { fields: { contentType?: unknown } }

/** The client's envelope for an outgoing message. */
export function toEnvelope(message: OutgoingMessage): HeaderFields & { exchange: string; routingKey: string; mandatory?: boolean } {
  const p = message.properties;
  return {
    exchange: message.exchange,
    routingKey: message.routingKey,
    mandatory: message.mandatory ?? false,
    contentType: p.contentType,
    contentEncoding: p.contentEncoding,
    headers: p.headers as HeaderFields['headers'],
    durable: (p.deliveryMode ?? 2) === 2,
    priority: p.priority,
    correlationId: p.correlationId,
    replyTo: p.replyTo,
    expiration: p.expiration,
    messageId: p.messageId,
    timestamp: p.timestamp,
    type: p.type,
    userId: p.userId,
    appId: p.appId,
  };
}

/** A delivered (or fetched) message as the transport seam describes it. */
export function toDelivery(msg: AsyncMessage | SyncMessage, queue: string): Delivery {
  const properties: MessageProperties = {};
  // String(): see keepRawBodies; JSON and text content types arrive boxed.
  if (msg.contentType != null) properties.contentType = String(msg.contentType);
  if (msg.contentEncoding != null) properties.contentEncoding = msg.contentEncoding;
  if (msg.headers != null) properties.headers = msg.headers;
  properties.deliveryMode = msg.durable ? 2 : 1;
  if (msg.priority != null) properties.priority = msg.priority;
  if (msg.correlationId != null) properties.correlationId = msg.correlationId;
  if (msg.replyTo != null) properties.replyTo = msg.replyTo;
  if (msg.expiration != null) properties.expiration = msg.expiration;
  if (msg.messageId != null) properties.messageId = msg.messageId;
  if (msg.timestamp != null) properties.timestamp = msg.timestamp;
  if (msg.type != null) properties.type = msg.type;
  if (msg.userId != null) properties.userId = msg.userId;
  if (msg.appId != null) properties.appId = msg.appId;
  return {
    body: toBuffer(msg.body),
    properties,
    exchange: msg.exchange,
    routingKey: msg.routingKey,
    queue,
    redelivered: msg.redelivered,
  };
}

function toBuffer(body: unknown): Buffer {
  if (Buffer.isBuffer(body)) return body;
  // Only reached if keepRawBodies could not apply (a channel Warren did not set up): keep working.
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  return Buffer.from(JSON.stringify(body), 'utf8');
}

/** basic.get on a channel of its own, which closes once the message is settled (or at once when the queue is empty). */
export async function fetchOne(connection: Connection, queue: string, errors: BrokerErrors): Promise<FetchedMessage | undefined> {
  const channel = await connection.acquire();
  keepRawBodies(channel);
  let message: SyncMessage | undefined;
  try {
    message = await channel.basicGet({ queue, noAck: false });
  } catch (err) {
    await channel.close().catch(() => undefined);
    throw errors.topology(err);
  }
  if (!message) {
    await channel.close();
    return undefined;
  }
  const tag = message.deliveryTag;
  let settled = false;
  const settle = async (action: () => Promise<void> | void) => {
    if (settled) throw new WarrenError('ALREADY_SETTLED', 'This message was already acknowledged or rejected.');
    settled = true;
    try { await action(); } finally { await channel.close().catch(() => undefined); }
  };
  return {
    ...toDelivery(message, queue),
    messageCount: message.messageCount,
    ack: () => settle(() => channel.basicAck({ deliveryTag: tag })),
    nack: (requeue) => settle(() => channel.basicNack({ deliveryTag: tag, requeue })),
  };
}
