import { Connection } from 'rabbitmq-client';
import type { TransportEvents } from '../../transport';
import { isTlsRejection, type BrokerErrors } from './errors';
import type { BrokerAddress, TlsOptions } from './url';
import type { ConnectionError } from '../../errors';

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

/**
 * Opens one rabbitmq-client connection (it connects and reconnects by itself), reporting connects,
 * losses and errors as Warren's typed errors.
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
  let wasUp = false;
  connection.on('connection', () => { wasUp = true; hooks.events.onConnect?.(); });
  connection.on('error', (err: unknown) => {
    const error = hooks.errors.connection(err);
    if (error.code === 'ACCESS_REFUSED' || isTlsRejection(err)) hooks.refused(error);
    if (wasUp && !connection.ready) { wasUp = false; hooks.events.onDisconnect?.(error); }
    hooks.events.onError?.(error);
  });
  return connection;
}
