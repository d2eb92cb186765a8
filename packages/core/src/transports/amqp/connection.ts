import { Connection } from 'rabbitmq-client';
import { ConnectionError } from '../../errors';
import type { TransportEvents } from '../../transport';
import { isTlsRejection, type BrokerErrors } from './errors';
import { probeHost, type ProbeResult } from './probe';
import { probeBeforeReconnects } from './reprobe';
import { AmqpPublisher, type PublisherDeps } from './publisher';
import type { BrokerAddress, TlsOptions } from './url';

/** Connection settings of {@link AmqpTransport} (see `AmqpTransportOptions`). */
export interface ConnectionSettings {
  tls?: TlsOptions;
  heartbeat?: number;
  noDelay?: boolean;
  retryLowMs?: number;
  retryHighMs?: number;
}

/** What an opened connection reports back to its transport. */
export interface ConnectionHooks {
  events: TransportEvents;
  errors: BrokerErrors;
  /** Called with errors that retrying cannot heal (refused credentials, an untrusted certificate). */
  refused(error: ConnectionError): void;
}

/** The longest one probe of a host may take before it counts as silent, when the caller waits longer. */
const PROBE_TIMEOUT_MS = 10_000;

/**
 * Waits until one of the address's hosts answers as an AMQP 0-9-1 broker (see {@link probeHost}),
 * probing every host at once, then again with back-off.
 *
 * Fails with a `ConnectionError` naming the cause, the URL shown once and redacted:
 * - at once when a host is not an AMQP server or its certificate is refused (waiting cannot help);
 * - after the first round when every host failed definitively (refused port, unknown host), unless
 *   `timeoutMs` is infinite: then the caller waits for the broker (`waitForBroker`), and
 *   `onWaiting` hears why, once per cause;
 * - at `timeoutMs` otherwise, with the last cause (a silent server, a timeout).
 */
export async function reachBroker(address: BrokerAddress, settings: ConnectionSettings, timeoutMs: number, signal: AbortSignal, onWaiting?: (error: ConnectionError) => void): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const waitForever = !Number.isFinite(timeoutMs);
  const tlsOptions = address.tls ? (settings.tls ?? {}) : undefined;
  const fail = (results: ProbeResult[]) => {
    const failures = results.filter((r): r is Exclude<ProbeResult, { ok: true }> => !r.ok);
    return new ConnectionError('CONNECTION', `Could not connect to ${address.redacted}: ${failures.map((f) => f.reason).join('; ').replace(/[^.?!]$/, '$&.')}`, { cause: failures[0]?.cause });
  };
  let delayMs = settings.retryLowMs ?? 500;
  let said = '';
  while (true) {
    const probeMs = Math.max(1, Math.min(deadline - Date.now(), PROBE_TIMEOUT_MS));
    const results = await Promise.all(address.hosts.map((host) => probeHost(host, tlsOptions, probeMs, signal)));
    if (signal.aborted) throw new ConnectionError('CLOSED', `The connection to ${address.redacted} was closed before it was established.`);
    const fatal = results.filter((r) => !r.ok && (r.code === 'NOT_AMQP' || isTlsRejection(r.cause)));
    if (fatal.length) throw fail(fatal);
    if (results.some((r) => r.ok)) return;
    if (!waitForever && results.every((r) => !r.ok && r.definitive)) throw fail(results);
    if (Date.now() + delayMs >= deadline) throw fail(results);
    const error = fail(results);
    if (error.message !== said) onWaiting?.(error);
    said = error.message;
    await sleep(delayMs, signal);
    delayMs = Math.min(delayMs * 2, settings.retryHighMs ?? 10_000);
  }
}

/** The two connections of a transport (to consume, to publish) and the publisher on the second. */
export interface BrokerLink {
  consume: Connection;
  publish: Connection;
  publisher: AmqpPublisher;
}

/**
 * Opens the consuming and the publishing connection, `<name>-consume` and `<name>-publish`, and
 * the publisher. Call after {@link reachBroker}.
 */
export function openLink(
  address: BrokerAddress, settings: ConnectionSettings & { connectionName?: string },
  hooks: ConnectionHooks & { blocked(blocked: boolean, reason?: string): void },
  publisher: Omit<PublisherDeps, 'connection'>,
): BrokerLink {
  const base = settings.connectionName ?? 'warren';
  const consume = openConnection(address, settings, `${base}-consume`, hooks);
  const publish = openConnection(address, settings, `${base}-publish`, hooks);
  publish.on('connection.blocked', (reason: string) => hooks.blocked(true, reason));
  publish.on('connection.unblocked', () => hooks.blocked(false));
  return { consume, publish, publisher: new AmqpPublisher({ ...publisher, connection: publish }) };
}

/**
 * Opens one rabbitmq-client connection (it connects and reconnects by itself), reporting connects,
 * losses and errors as Warren's typed errors. Call after {@link reachBroker}; each of the client's
 * own reconnects is probed first too (reprobe.ts).
 */
export function openConnection(address: BrokerAddress, settings: ConnectionSettings, connectionName: string, hooks: ConnectionHooks): Connection {
  const connection = new Connection({
    username: address.username,
    password: address.password,
    vhost: address.vhost,
    hosts: address.hosts,
    hostname: address.hosts[0]!.split(':')[0],
    port: address.hosts[0]!.split(':')[1],
    tls: address.tls ? (settings.tls ?? true) : undefined,
    heartbeat: settings.heartbeat ?? address.heartbeat ?? 20,
    noDelay: settings.noDelay ?? true,
    connectionName,
    frameMax: 131_072,
    retryLow: settings.retryLowMs ?? 500,
    retryHigh: settings.retryHighMs ?? 10_000,
    acquireTimeout: 10_000,
  });
  // The first connect follows reachBroker's probe; every reconnect gets its own.
  probeBeforeReconnects(connection, { redacted: address.redacted, tls: address.tls ? (settings.tls ?? {}) : undefined }, (error) => {
    hooks.events.onReconnectHeld?.(error, connectionName);
    hooks.events.onError?.(error);
  });
  let wasUp = false;
  connection.on('connection', () => { wasUp = true; hooks.events.onConnect?.(connectionName); });
  connection.on('error', (err: unknown) => {
    const error = hooks.errors.connection(err);
    if (error.code === 'ACCESS_REFUSED' || isTlsRejection(err)) hooks.refused(error);
    if (wasUp && !connection.ready) { wasUp = false; hooks.events.onDisconnect?.(error, connectionName); }
    hooks.events.onError?.(error);
  });
  return connection;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const onAbort = () => { clearTimeout(timer); resolve(); };
    const timer = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve(); }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
