import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { ConfigurationError } from '../../errors';
import { redactUrl } from '../../redact';

/** What Warren takes from one or more AMQP URLs; the password never leaves this object except to the client. */
export interface BrokerAddress {
  username: string;
  password: string;
  vhost: string;
  tls: boolean;
  /** `host:port` of every node, in the order to try them. */
  hosts: string[];
  heartbeat?: number;
  /** For logs: the first URL with its password replaced by `***`. */
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
      throw new ConfigurationError(`Broker URLs for one connection must share scheme, credentials and vhost: ${list.map(redactUrl).join(', ')}`);
    }
  }
  return { ...first, hosts: parsed.flatMap((p) => p.hosts) };
}

function parseOne(raw: string): BrokerAddress {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // Node's own error carries the full input (with the password) in `input`: never rethrow it.
    throw new ConfigurationError(`Invalid broker URL "${redactUrl(raw)}": expected amqp://user:password@host:5672/vhost or amqps://… (percent-encode special characters in the password).`);
  }
  if (url.protocol !== 'amqp:' && url.protocol !== 'amqps:') {
    throw new ConfigurationError(`Unsupported broker URL scheme "${url.protocol}" in "${redactUrl(raw)}": use amqp:// or amqps://.`);
  }
  const tls = url.protocol === 'amqps:';
  const heartbeat = url.searchParams.get('heartbeat');
  return {
    username: decodeURIComponent(url.username || 'guest'),
    password: decodeURIComponent(url.password || 'guest'),
    vhost: decodeURIComponent(url.pathname.slice(1)) || '/',
    tls,
    hosts: [`${url.hostname}:${url.port || (tls ? 5671 : 5672)}`],
    heartbeat: heartbeat === null ? undefined : Number(heartbeat),
    redacted: redactUrl(raw),
  };
}

/** TLS options passed straight to `tls.connect` (ca, cert, key, servername, rejectUnauthorized…). */
export type { TlsOptions };
