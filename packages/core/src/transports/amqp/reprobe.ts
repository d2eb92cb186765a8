import type { Connection } from 'rabbitmq-client';
import { ConnectionError } from '../../errors';
import { probeHost } from './probe';
import type { TlsOptions } from './url';

/**
 * The parts of rabbitmq-client 5.0.8's `Connection` this hook uses (`@internal` there, stripped from
 * its types; the client is pinned to that exact version, and `test/faults/reconnect-probe.test.ts`
 * fails if an upgrade moves them): `_connect` opens a socket to `_opt.hosts[_state.hostIndex]`, and
 * the client's reconnect timer calls whatever `_connect` holds when it fires.
 */
interface ClientInternals {
  _connect: () => unknown;
  _opt: { hosts: Array<{ hostname: string; port: number | string }>; retryLow: number; retryHigh: number };
  _state: { hostIndex: number; readyState: number; retryTimer?: NodeJS.Timeout };
}

/** `READY_STATE.CONNECTING` in rabbitmq-client: waiting to (re)connect; anything else means closing or open. */
const CONNECTING = 0;
const PROBE_TIMEOUT_MS = 10_000;

/**
 * Probes the host before each of the client's reconnects, as `reachBroker` does before the first
 * connect. Without it, a reconnect to an address where another server now answers (a broker moved,
 * its port taken by an HTTP server or a proxy's error page) hands that server's bytes to the
 * client's frame reader, which reads them as a frame of a gigabyte or more and throws a RangeError
 * from a socket event: the process dies. Instead such a host is skipped, `onHeld` hears why (a
 * `ConnectionError`, once per outage), and it is probed again with the client's back-off until it
 * answers as a broker. Any other probe result (refused, silent) lets the client connect and fail
 * on its own terms, as before.
 *
 * An instance hook, not a patch of the prototype: it touches only Warren's own connections.
 */
export function probeBeforeReconnects(connection: Connection, target: { redacted: string; tls?: TlsOptions }, onHeld: (error: ConnectionError) => void): void {
  const client = connection as unknown as ClientInternals;
  if (typeof client._connect !== 'function' || !Array.isArray(client._opt?.hosts) || typeof client._state?.hostIndex !== 'number') {
    throw new Error('rabbitmq-client is not the version Warren was built for (its reconnect internals moved): install the exact version @warren/core depends on.');
  }
  const connect = client._connect;
  let held = 0;
  client._connect = () => {
    client._state.retryTimer = undefined; // the timer that called us has fired (the client's _connect does the same)
    const host = client._opt.hosts[client._state.hostIndex]!;
    void probeHost(`${host.hostname}:${host.port}`, target.tls, PROBE_TIMEOUT_MS).then((result) => {
      if (client._state.readyState !== CONNECTING) return; // closed while probing
      if (result.ok || result.code !== 'NOT_AMQP') {
        held = 0;
        connect();
        return;
      }
      if (held === 0) onHeld(new ConnectionError('CONNECTION', `Not reconnecting to ${target.redacted}: ${result.reason}. Probing it again with back-off until a broker answers.`));
      held++;
      client._state.hostIndex = (client._state.hostIndex + 1) % client._opt.hosts.length;
      const delayMs = Math.min(client._opt.retryLow * 2 ** Math.min(held, 16), client._opt.retryHigh);
      client._state.retryTimer = setTimeout(client._connect, delayMs);
    }, () => connect());
  };
}
