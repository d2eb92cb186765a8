import type { Connection } from 'rabbitmq-client';

/**
 * rabbitmq-client decodes bodies itself when the content type is exactly `application/json` or
 * `text/plain`: JSON.parse on lenient UTF-8, malformed JSON silently left as a Buffer, the original
 * bytes gone. Warren needs the bytes (strict UTF-8, dead-lettering the message unchanged, raw body in
 * the context), and the client has no option to turn decoding off.
 *
 * The client decides by comparing `contentType` with `===`. For Warren's own connections only, the
 * header frame's content type is boxed in a `String` object before the client looks at it, so the
 * comparison fails and the body stays a Buffer; `AmqpTransport` unboxes it with `String()`.
 * rabbitmq-client is pinned to an exact version, and `test/amqp-raw-body.test.ts` proves the hook
 * still applies, so an upgrade that moves this internal fails loudly instead of silently.
 */
const rawConnections = new WeakSet<object>();
let installed = false;

interface HeaderFrame { fields: { contentType?: unknown } }
interface ChannelInternals { _conn: object; _onHeader(frame: HeaderFrame): void }

function install(): void {
  if (installed) return;
  installed = true;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Channel } = require('rabbitmq-client/lib/Channel') as { Channel: { prototype: ChannelInternals } };
  const original = Channel.prototype._onHeader;
  if (typeof original !== 'function') throw new Error('rabbitmq-client internals changed: Channel.prototype._onHeader is missing; pin rabbitmq-client to the version in package.json');
  Channel.prototype._onHeader = function onHeader(this: ChannelInternals, frame: HeaderFrame) {
    const type = frame.fields.contentType;
    if ((type === 'application/json' || type === 'text/plain') && rawConnections.has(this._conn)) {
      frame.fields.contentType = new String(type);
    }
    return original.call(this, frame);
  };
}

/** Makes `connection` deliver every body as the raw Buffer the broker sent. */
export function keepRawBodies(connection: Connection): void {
  install();
  rawConnections.add(connection);
}
