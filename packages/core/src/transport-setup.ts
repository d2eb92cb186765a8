import type { Logger } from './logger';
import { ConfigurationError } from './errors';
import { AmqpTransport } from './transports/amqp/transport';
import { MemoryTransport } from './transports/memory/transport';
import type { Transport, TransportEvents } from './transport';
import type { WarrenConfig } from './config';

/**
 * Choosing and setting up the app's transport: RabbitMQ when a URL is configured, the embedded
 * broker otherwise (never in production), and what the transport reports, written to the log.
 */

/** What the transport reports, written to the log; errors also become the health report's `lastError`. */
export function loggedTransportEvents(logger: Logger, onError: (message: string) => void): TransportEvents {
  return {
    onConnect: (connection) => logger.info('connected to the broker', { connection }),
    onDisconnect: (error, connection) => logger.warn('lost the broker connection; reconnecting', { connection, error: error.message }),
    onBlocked: (reason) => logger.warn('the broker blocked publishing (resource alarm)', { reason }),
    onUnblocked: () => logger.info('the broker unblocked publishing'),
    onSubscriptionChange: (queue, attached, error) => {
      if (attached) logger.info('consumer attached', { queue });
      else logger.warn('consumer detached; re-attaching', { queue, error: error?.message });
    },
    onSettlementDropped: (queue, settlement) => logger.warn('a handler finished after its channel was lost; its message will be redelivered', { queue, settlement }),
    onRedeclared: (exchange, error) => {
      if (error) logger.error('an exchange Warren declared is missing and could not be declared again', { exchange, error: error.message });
      else logger.warn('an exchange Warren declared was missing; declared it again with its bindings', { exchange });
    },
    onReconnectHeld: (error, connection) => logger.error('not reconnecting: the broker\'s address answers as another kind of server; probing it again with back-off', { connection, error: error.message }),
    onError: (error) => { onError(error.message); logger.debug('transport error', { error: error.message }); },
  };
}

export function createTransport(options: WarrenConfig, env: Record<string, string | undefined>, logger: Logger, events: TransportEvents): Transport {
  const url = options.url ?? env.AMQP_URL;
  if (url && (typeof url === 'string' ? url.trim() !== '' : url.length > 0)) {
    return new AmqpTransport({
      url, tls: options.tls, heartbeat: options.heartbeat, connectionName: options.name,
      publishTimeoutMs: options.publishTimeoutMs, maxInFlightPublishes: options.maxInFlightPublishes, events,
    });
  }
  if (env.NODE_ENV === 'production') {
    throw new ConfigurationError('NODE_ENV is production but no broker URL is configured: set AMQP_URL (the embedded in-memory broker keeps nothing and is for development and tests).');
  }
  logger.warn('NO BROKER CONFIGURED: running on the embedded in-memory broker. Messages live in this process only. Set AMQP_URL to use RabbitMQ.');
  return new MemoryTransport({ events });
}
