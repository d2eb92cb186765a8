import type { AddressInfo } from 'node:net';
import { ConfigurationError, redactUrl, stripUserinfo, type Transport } from '@warren/core';
import { buildAsyncApi } from '../asyncapi';
import { connectTo } from '../broker-connection';
import { ExitCode } from '../exit-codes';
import { loadService } from '../service-loader';
import { buildTopology } from '../topology-model';
import { createConsoleServer } from '../ui/console-server';
import { contractView } from '../ui/contract-view';
import { DeadLetterDesk } from '../ui/dead-letter-desk';
import { defaultManagementUrl, ManagementClient, vhostOf } from '../ui/management';
import { LOOPBACK_NAMES, newToken } from '../ui/security';
import { wiringGraph } from '../ui/wiring';

export interface UiCommandOptions {
  /** AMQP URL (default $AMQP_URL); without one, dead letters are unavailable. */
  amqp?: string;
  /** Management API URL; false for --no-management; default: derived from the AMQP URL. */
  management?: string | false;
  port?: string;
  host?: string;
  allowActions?: boolean;
}

/** How often the page asks for live numbers. */
const REFRESH_MS = 3_000;

/**
 * `warren ui [entry...]`: serves the operations console for the service's modules until SIGINT or
 * SIGTERM, on 127.0.0.1 unless told otherwise. Prints the address and, with --allow-actions, the
 * token that replay and discard need.
 */
export async function uiCommand(entries: string[], options: UiCommandOptions, signal: Promise<void> = stopSignal()): Promise<ExitCode> {
  const port = parsePort(options.port ?? '4300');
  const host = options.host ?? '127.0.0.1';
  const service = loadService(entries);
  const title = service.packageJson?.name ?? 'Warren service';
  const amqp = options.amqp ?? (process.env.AMQP_URL || undefined);
  if (amqp !== undefined) checkUrl(amqp, '--amqp');
  const managementUrl = options.management === false ? undefined : options.management ?? (amqp ? defaultManagementUrl(amqp) : undefined);
  if (managementUrl !== undefined) checkUrl(managementUrl, '--management');
  const vhost = amqp ? vhostOf(amqp) : '/';
  const secrets = [amqp, managementUrl].flatMap((url) => (url ? [passwordOf(url)] : [])).filter((s) => s !== '');

  const transport: Transport | undefined = amqp ? await connectTo(amqp, 'ui') : undefined;
  const management = managementUrl ? new ManagementClient(managementUrl, vhost) : undefined;
  const token = newToken();
  const server = createConsoleServer({
    config: {
      service: title,
      broker: amqp ? stripUserinfo(amqp) : undefined,
      vhost,
      management: management?.describe(),
      actionsAllowed: options.allowActions === true,
      refreshMs: REFRESH_MS,
    },
    graph: wiringGraph(buildTopology([service]), service.consumers),
    contracts: contractView(buildAsyncApi({ title, version: service.packageJson?.version ?? '0.0.0', description: service.packageJson?.description, ...service })),
    desk: new DeadLetterDesk(transport, service.consumers),
    management,
    token,
    hostNames: new Set([...LOOPBACK_NAMES, ...(isWildcard(host) ? [] : [host.includes(':') ? `[${host}]` : host.toLowerCase()])]),
    secrets,
  });
  try {
    await listen(server, port, host);
    const address = server.address() as AddressInfo;
    const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const url = `http://${isWildcard(host) ? '127.0.0.1' : shown}:${address.port}/`;
    const lines = [
      `warren ui: ${title} on ${url}`,
      `  broker: ${amqp ? `${redactUrl(amqp)} (vhost ${vhost})` : 'none (pass --amqp or set AMQP_URL for dead letters)'}`,
      `  management API: ${management ? management.describe() : 'off'}`,
      options.allowActions
        ? `  actions allowed (replay, discard): open ${url}#token=${token}\n  token: ${token}`
        : '  read-only: start with --allow-actions to replay and discard dead letters',
    ];
    if (!LOOPBACK_NAMES.includes(host) && host !== '::1') lines.push(`  warning: listening on ${host}, not only on this machine`);
    process.stdout.write(`${lines.join('\n')}\nPress Ctrl+C to stop.\n`);
    await signal;
    return ExitCode.OK;
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await transport?.close();
  }
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new ConfigurationError(`--port must be a port number from 0 to 65535 (got "${text}").`);
  return port;
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::';
}

/** Parses a URL without ever putting it, password and all, into an error message. */
function checkUrl(url: string, option: string): void {
  try {
    new URL(url);
  } catch {
    throw new ConfigurationError(`${option} is not a URL: ${redactUrl(url)}`);
  }
}

function passwordOf(url: string): string {
  try {
    return decodeURIComponent(new URL(url).password);
  } catch {
    return '';
  }
}

function listen(server: ReturnType<typeof createConsoleServer>, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException) => {
      reject(error.code === 'EADDRINUSE'
        ? new ConfigurationError(`Port ${port} on ${host} is in use: pass another with --port (0 picks a free one).`)
        : new ConfigurationError(`Cannot listen on ${host}:${port}: ${error.message}`));
    };
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve();
    });
  });
}

/** Resolves on the first SIGINT or SIGTERM. */
function stopSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
