import { AmqpTransport } from '@warren/core';

/**
 * How long the CLI waits for a broker. RabbitMQ answers in milliseconds when it is up, and the
 * client keeps retrying a refused connection, so waiting long only delays the error.
 */
export const CONNECT_TIMEOUT_MS = 5_000;

/** Opens a connection for a CLI command; the caller closes it. Fails with a redacted ConnectionError. */
export async function connectTo(url: string, purpose: string): Promise<AmqpTransport> {
  const transport = new AmqpTransport({ url, connectionName: `warren-cli-${purpose}`, retryLowMs: 200, retryHighMs: 1_000 });
  await transport.connect(CONNECT_TIMEOUT_MS);
  return transport;
}
