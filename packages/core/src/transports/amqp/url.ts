import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { ConfigurationError } from '../../errors';
import { stripUserinfo } from '../../redact';

/** What Warren takes from one or more AMQP URLs; the password never leaves this object except to the client. */
export interface BrokerAddress {
  username: string;
  password: string;
  vhost: string;
  tls: boolean;
  /** `host:port` of every node, in the order to try them. */
  hosts: string[];
  heartbeat?: number;
  /** For logs, errors and health output: the first URL without its userinfo (`amqp://host:5672/vh`). */
  redacted: string;
}

/**
 * Parses `amqp://` / `amqps://` URLs. Several URLs name the nodes of one cluster: they must share
 * credentials, vhost and scheme, and contribute their host:port in order (failover).
 */
export function parseBrokerUrls(urls: string | readonly string[]): BrokerAddress {
  const list = (typeof urls === 'string' ? urls.split(',') : [...urls]).map((u) => u.trim()).filter(Boolean);
  if (list.length === 0) throw new ConfigurationError('No broker URL given. Set AMQP_URL (e.g. amqp://user:password@host:5672/vhost) or pass { url } to Warren.start().');
  const parsed = list.map(parseOne);
  const first = parsed[0]!;
  for (const other of parsed.slice(1)) {
    if (other.tls !== first.tls || other.vhost !== first.vhost || other.username !== first.username || other.password !== first.password) {
      throw new ConfigurationError(`Broker URLs for one connection must share scheme, credentials and vhost: ${list.map(stripUserinfo).join(', ')}`);
    }
  }
  return { ...first, hosts: parsed.flatMap((p) => p.hosts) };
}

/**
 * One URL, read by structure: the userinfo is everything between `://` and the last `@`, so a
 * password may hold `@ / # ? : %` unencoded; only the rest (host, port, vhost, query) goes to
 * `new URL()`. Errors never repeat the URL: it may hold a password.
 */
function parseOne(raw: string): BrokerAddress {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(raw);
  if (!scheme) throw new ConfigurationError('Invalid broker URL (not shown: it may contain a password): expected amqp://user:password@host:5672/vhost or amqps://….');
  const protocol = scheme[1]!.toLowerCase();
  if (protocol !== 'amqp' && protocol !== 'amqps') throw new ConfigurationError(`Unsupported broker URL scheme "${protocol}:": use amqp:// or amqps://.`);
  const afterScheme = raw.slice(scheme[0].length);
  const at = afterScheme.lastIndexOf('@');
  const userinfo = at === -1 ? '' : afterScheme.slice(0, at);
  const location = afterScheme.slice(at + 1);
  let url: URL;
  try {
    url = new URL(`${protocol}://${location}`);
  } catch {
    // Node's own error carries the full input in `input`: never rethrow it.
    throw new ConfigurationError('Invalid broker URL (not shown: it may contain a password): the host, port or vhost after the last "@" cannot be read; expected amqp://user:password@host:5672/vhost.');
  }
  if (url.hostname === '') throw new ConfigurationError('Invalid broker URL (not shown: it may contain a password): it names no host; expected amqp://user:password@host:5672/vhost.');
  const colon = userinfo.indexOf(':');
  const username = colon === -1 ? userinfo : userinfo.slice(0, colon);
  const password = colon === -1 ? '' : userinfo.slice(colon + 1);
  const tls = protocol === 'amqps';
  const heartbeat = url.searchParams.get('heartbeat');
  return {
    username: percentDecoded(username) || 'guest',
    password: percentDecoded(password) || 'guest',
    vhost: percentDecoded(url.pathname.slice(1)) || '/',
    tls,
    hosts: [`${url.hostname}:${url.port || (tls ? 5671 : 5672)}`],
    heartbeat: heartbeat === null ? undefined : Number(heartbeat),
    redacted: `${protocol}://${location}`,
  };
}

/** Percent-decoding that keeps a lone `%` (a password like `50%off` sent unencoded) instead of throwing. */
function percentDecoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** TLS options passed straight to `tls.connect` (ca, cert, key, servername, rejectUnauthorized…). */
export type { TlsOptions };
