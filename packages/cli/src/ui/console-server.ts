import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import * as path from 'node:path';
import { ConfigurationError, redactText, WarrenError } from '@warren/core';
import type { ActionRequest, ConsoleConfig, ContractView, Selection, WiringGraph } from './api-types';
import { ConsoleRequestError, type DeadLetterDesk } from './dead-letter-desk';
import type { ManagementClient } from './management';
import { hostAllowed, sameOrigin, SECURITY_HEADERS, TOKEN_HEADER, tokenMatches } from './security';

/** Where the page's bundle is built to (`npm run build` in packages/cli). */
export const ASSETS_DIR = path.resolve(__dirname, '../../ui');

const ASSETS: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/assets/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/assets/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
};

const MAX_REQUEST_BYTES = 16 * 1024;

export interface ConsoleServerOptions {
  config: ConsoleConfig;
  graph: WiringGraph;
  contracts: ContractView;
  desk: DeadLetterDesk;
  management?: ManagementClient;
  /** The action token; replay and discard are refused without it, and always when `config.actionsAllowed` is false. */
  token: string;
  /** Host names the console answers to (lower case, IPv6 in brackets). */
  hostNames: ReadonlySet<string>;
  /** Secrets (passwords) removed from any error text before it is sent. */
  secrets: readonly string[];
  assetsDir?: string;
}

/**
 * The console's HTTP server: the page's three files and a JSON API (see api-types.ts). Read
 * requests are GETs; the two actions are POSTs that need the token. Call `listen` on the result.
 */
export function createConsoleServer(options: ConsoleServerOptions): Server {
  const assets = loadAssets(options.assetsDir ?? ASSETS_DIR);
  const server = createServer((request, response) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) response.setHeader(name, value);
    const port = (server.address() as { port?: number } | null)?.port ?? 0;
    if (!hostAllowed(request, options.hostNames, port)) {
      return send(response, 421, { error: `This console answers only to ${[...options.hostNames].join(', ')} (got Host "${String(request.headers.host ?? '')}").` });
    }
    handle(request, response, options, assets).catch((error: unknown) => fail(response, error, options.secrets));
  });
  return server;
}

function loadAssets(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const { file } of Object.values(ASSETS)) {
    try {
      files.set(file, readFileSync(path.join(dir, file)));
    } catch {
      throw new ConfigurationError(`The console's page is missing (${path.join(dir, file)}): build @warren/cli with npm run build.`);
    }
  }
  return files;
}

async function handle(request: IncomingMessage, response: ServerResponse, options: ConsoleServerOptions, assets: Map<string, Buffer>): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://console');
  const asset = ASSETS[url.pathname];
  if (asset && request.method === 'GET') {
    response.writeHead(200, { 'content-type': asset.type });
    response.end(assets.get(asset.file));
    return;
  }
  const parts = url.pathname.split('/').slice(1).map(decodePart);
  if (parts[0] !== 'api') return send(response, 404, { error: `No page ${url.pathname}.` });
  if (request.method === 'POST') return act(request, response, parts, options);
  if (request.method !== 'GET') return send(response, 405, { error: `${String(request.method)} is not served here.` });
  const [, what, consumer, sub, id] = parts;
  switch (parts.length === 2 ? what : `${what}/${parts.length}`) {
    case 'config': return send(response, 200, options.config);
    case 'wiring': return send(response, 200, options.graph);
    case 'contracts': return send(response, 200, options.contracts);
    case 'live': return send(response, 200, options.management ? await options.management.live() : { status: 'off', at: Date.now(), reason: 'the management API is turned off (--no-management)' });
    case 'dead-letters': return send(response, 200, await options.desk.overview());
    case 'dead-letters/3': return send(response, 200, await options.desk.listing(consumer!, limitOf(url)));
    case 'dead-letters/5': {
      if (sub !== 'messages') break;
      const detail = await options.desk.detail(consumer!, id!);
      return detail ? send(response, 200, detail) : send(response, 404, { error: 'That message is no longer in the dead-letter queue (replayed, discarded, or the listing is older): refresh the list.' });
    }
    default: break;
  }
  return send(response, 404, { error: `No API ${url.pathname}.` });
}

async function act(request: IncomingMessage, response: ServerResponse, parts: string[], options: ConsoleServerOptions): Promise<void> {
  const [, what, consumer, action] = parts;
  if (what !== 'dead-letters' || parts.length !== 4 || (action !== 'replay' && action !== 'discard')) return send(response, 404, { error: 'No such action.' });
  if (!options.config.actionsAllowed) return send(response, 403, { error: 'This console is read-only: start warren ui with --allow-actions to replay or discard.' });
  const token = request.headers[TOKEN_HEADER];
  if (!tokenMatches(Array.isArray(token) ? token[0] : token, options.token)) {
    return send(response, 401, { error: `Actions need the token warren ui printed at start, in the ${TOKEN_HEADER} header.` });
  }
  if (!sameOrigin(request)) return send(response, 403, { error: 'Actions are accepted from the console\'s own page only.' });
  if (!/^application\/json\b/i.test(request.headers['content-type'] ?? '')) return send(response, 415, { error: 'Send the action as application/json.' });
  const body = (await readBody(request)) as Partial<ActionRequest>;
  const selection = parseSelection(body?.selection);
  return send(response, 200, await options.desk.act(consumer!, action, selection));
}

function decodePart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new ConsoleRequestError(400, 'The request path is not valid percent-encoding.');
  }
}

function limitOf(url: URL): number | undefined {
  const text = url.searchParams.get('limit');
  if (text === null) return undefined;
  const limit = Number(text);
  if (!Number.isInteger(limit) || limit < 1) throw new ConsoleRequestError(400, `limit must be a whole number ≥ 1 (got "${text}").`);
  return limit;
}

/** Checks a selection field by field: it comes from the network. */
export function parseSelection(value: unknown): Selection {
  const v = value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  const text = (key: string, max: number): string => {
    const field = v[key];
    if (typeof field !== 'string' || field.length > max) throw new ConsoleRequestError(400, `selection.${key} must be text of at most ${max} characters.`);
    return field;
  };
  switch (v.kind) {
    case 'all': return { kind: 'all' };
    case 'message': return { kind: 'message', id: text('id', 100) };
    case 'group': return { kind: 'group', key: text('key', 4_000) };
    case 'filter': {
      const filter = text('text', 1_000);
      if (filter.trim() === '') throw new ConsoleRequestError(400, 'selection.text is empty: select { kind: "all" } to act on every message.');
      return { kind: 'filter', text: filter };
    }
    default: throw new ConsoleRequestError(400, 'selection.kind must be "message", "group", "filter" or "all".');
  }
}

function readBody(request: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REQUEST_BYTES) {
        reject(new ConsoleRequestError(413, `Requests are limited to ${MAX_REQUEST_BYTES} bytes.`));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('error', reject);
    request.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        reject(new ConsoleRequestError(400, 'The request body is not JSON.'));
      }
    });
  });
}

function send(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent) return void response.end();
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  response.end(JSON.stringify(body));
}

/** Errors as JSON: a request problem as itself, a broker problem as 502, anything else as 500 (logged). */
function fail(response: ServerResponse, error: unknown, secrets: readonly string[]): void {
  const message = redactText(error instanceof Error ? error.message : String(error), secrets);
  if (error instanceof ConsoleRequestError) return send(response, error.status, { error: message });
  if (error instanceof WarrenError) return send(response, 502, { error: message });
  process.stderr.write(`warren ui: internal error, please report it:\n${redactText(error instanceof Error ? error.stack ?? message : message, secrets)}\n`);
  return send(response, 500, { error: 'Internal error in the console (details on its terminal).' });
}
