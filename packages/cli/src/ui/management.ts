import { redactText, stripUserinfo } from '@warren/core';
import type { ExchangeLive, LiveNumbers, QueueLive } from './api-types';

/** How long one management API request may take: the page refreshes every few seconds anyway. */
const REQUEST_TIMEOUT_MS = 3_000;
/** Answers are reused this long, so several open pages cost the broker one request per period. */
const CACHE_MS = 1_500;

const QUEUE_COLUMNS = 'name,messages,messages_ready,messages_unacknowledged,consumers,message_stats.publish_details.rate,message_stats.deliver_get_details.rate';
const EXCHANGE_COLUMNS = 'name,message_stats.publish_in_details.rate,message_stats.publish_out_details.rate';

/**
 * Reads queue and exchange numbers of one vhost from RabbitMQ's management HTTP API. The URL's
 * userinfo becomes a Basic authorization header and goes nowhere else: `describe()` and every
 * reason it reports are without it.
 *
 * @example
 * ```ts
 * const management = new ManagementClient('http://guest:guest@localhost:15672', '/');
 * const live = await management.live();
 * if (live.status === 'ok') console.log(live.queues['billing.order-created']?.messages);
 * ```
 */
export class ManagementClient {
  private readonly base: string;
  private readonly authorization?: string;
  private readonly secrets: string[];
  private cached?: { at: number; value: Promise<LiveNumbers> };

  constructor(url: string, private readonly vhost: string) {
    const parsed = new URL(url);
    const user = decodeURIComponent(parsed.username);
    const password = decodeURIComponent(parsed.password);
    this.secrets = [password].filter((s) => s !== '');
    if (user || password) this.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    parsed.username = '';
    parsed.password = '';
    this.base = parsed.toString().replace(/\/+$/, '');
  }

  /** The API's address without credentials. */
  describe(): string {
    return stripUserinfo(this.base);
  }

  /** Queue and exchange numbers of the vhost, or why there are none; never throws. */
  live(now = Date.now()): Promise<LiveNumbers> {
    if (this.cached && now - this.cached.at < CACHE_MS) return this.cached.value;
    const value = this.read();
    this.cached = { at: now, value };
    return value;
  }

  private async read(): Promise<LiveNumbers> {
    const at = Date.now();
    const vhost = encodeURIComponent(this.vhost);
    try {
      const [queues, exchanges] = await Promise.all([
        this.get(`/api/queues/${vhost}?columns=${QUEUE_COLUMNS}`),
        this.get(`/api/exchanges/${vhost}?columns=${EXCHANGE_COLUMNS}`),
      ]);
      return { status: 'ok', at, queues: queueNumbers(queues), exchanges: exchangeNumbers(exchanges) };
    } catch (error) {
      if (error instanceof ManagementAnswer) return { status: error.status === 401 ? 'unauthorized' : 'error', at, reason: error.message };
      return { status: 'unreachable', at, reason: `no answer from ${this.describe()}: ${redactText(networkReason(error), this.secrets)}` };
    }
  }

  private async get(path: string): Promise<unknown> {
    const response = await fetch(`${this.base}${path}`, {
      headers: { accept: 'application/json', ...(this.authorization ? { authorization: this.authorization } : {}) },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      redirect: 'error',
    });
    if (!response.ok) {
      await response.body?.cancel();
      throw new ManagementAnswer(response.status, this.explain(response.status));
    }
    return response.json();
  }

  private explain(status: number): string {
    switch (status) {
      case 401: return `${this.describe()} refused the credentials (401): pass --management with a user that has the "monitoring" or "management" tag`;
      case 403: return `${this.describe()} denied access to vhost "${this.vhost}" (403)`;
      case 404: return `${this.describe()} knows no vhost "${this.vhost}" (404)`;
      default: return `${this.describe()} answered ${status}`;
    }
  }
}

/** An HTTP answer other than 200 from the management API. */
class ManagementAnswer extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** What went wrong on the network, in a few words: fetch() itself only says "fetch failed". */
function networkReason(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') return `nothing within ${REQUEST_TIMEOUT_MS / 1000} s`;
  const cause = error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (typeof cause?.code === 'string') return cause.code === 'ECONNREFUSED' ? 'connection refused (is the rabbitmq_management plugin enabled?)' : cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return error instanceof Error ? error.message : String(error);
}

type Row = Record<string, unknown>;

function rows(value: unknown): Row[] {
  return Array.isArray(value) ? value.filter((r): r is Row => r !== null && typeof r === 'object' && typeof (r as Row).name === 'string') : [];
}

const count = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

function rate(stats: unknown, key: string): number | undefined {
  const details = stats !== null && typeof stats === 'object' ? (stats as Row)[key] : undefined;
  const value = details !== null && typeof details === 'object' ? (details as Row).rate : undefined;
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function queueNumbers(value: unknown): Record<string, QueueLive> {
  const out: Record<string, QueueLive> = Object.create(null);
  for (const row of rows(value)) {
    out[row.name as string] = {
      messages: count(row.messages),
      ready: count(row.messages_ready),
      unacked: count(row.messages_unacknowledged),
      consumers: count(row.consumers),
      publishRate: rate(row.message_stats, 'publish_details'),
      deliverRate: rate(row.message_stats, 'deliver_get_details'),
    };
  }
  return out;
}

function exchangeNumbers(value: unknown): Record<string, ExchangeLive> {
  const out: Record<string, ExchangeLive> = Object.create(null);
  for (const row of rows(value)) {
    out[row.name as string] = { publishInRate: rate(row.message_stats, 'publish_in_details'), publishOutRate: rate(row.message_stats, 'publish_out_details') };
  }
  return out;
}

/**
 * The management API that belongs to an AMQP URL: the same host on RabbitMQ's default management
 * port (15672, or 15671 for amqps), with the same credentials.
 */
export function defaultManagementUrl(amqpUrl: string): string {
  const parsed = new URL(amqpUrl);
  const tls = parsed.protocol === 'amqps:';
  const userinfo = parsed.username ? `${parsed.username}${parsed.password ? `:${parsed.password}` : ''}@` : '';
  return `${tls ? 'https' : 'http'}://${userinfo}${parsed.hostname.includes(':') && !parsed.hostname.startsWith('[') ? `[${parsed.hostname}]` : parsed.hostname}:${tls ? 15671 : 15672}`;
}

/** The vhost an AMQP URL names: its path, decoded; `/` when it has none. */
export function vhostOf(amqpUrl: string): string {
  const path = new URL(amqpUrl).pathname;
  return path === '' || path === '/' ? '/' : decodeURIComponent(path.slice(1));
}
